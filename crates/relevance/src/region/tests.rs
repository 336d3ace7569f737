use super::*;

/// Every accepted value, from `Region::NAMED`.
fn valid_region_values() -> String {
    let codes: Vec<String> = Region::NAMED
        .iter()
        .map(|region| format!("{} ({})", region.code(), region.constant().unwrap()))
        .collect();
    let short: Vec<String> = Region::NAMED
        .iter()
        .map(|region| region.constant().unwrap().to_ascii_lowercase())
        .collect();
    format!(
        "a code of 6 lowercase hex characters such as {}, 1e3042; or {}",
        codes.join(", "),
        short.join(", ")
    )
}

#[test]
fn the_errors_list_every_region() {
    assert_eq!(valid_region_values(), crate::error::VALID_REGION_VALUES);
}

#[test]
fn region_parse_table() {
    let cases: &[(&str, Option<Region>)] = &[
        ("bcbe5a", Some(Region::US)),
        ("d7b62b", Some(Region::EU)),
        ("f1db6c", Some(Region::AU)),
        ("BCBE5A", Some(Region::US)),
        ("us", Some(Region::US)),
        ("US", Some(Region::US)),
        ("Eu", Some(Region::EU)),
        (" au \n", Some(Region::AU)),
        ("  f1db6c ", Some(Region::AU)),
        ("1e3042", Region::from_code("1e3042").ok()),
        ("1E3042", Region::from_code("1e3042").ok()),
        (" 00ff99 ", Region::from_code("00ff99").ok()),
        ("zz", None),
        ("", None),
        ("usa", None),
        ("bcbe5", None),
        ("bcbe5a0", None),
        ("1e304g", None),
        ("United States", None),
    ];
    for (input, expected) in cases {
        let parsed = input.parse::<Region>();
        match expected {
            Some(region) => assert_eq!(parsed.ok(), Some(*region), "{input:?}"),
            None => {
                let error = parsed.expect_err(input);
                assert!(matches!(error, Error::InvalidRegion { .. }), "{input:?}");
                let text = error.to_string();
                for region in Region::NAMED {
                    assert!(text.contains(region.code()), "{text}");
                    let short = region.constant().unwrap().to_ascii_lowercase();
                    assert!(text.contains(&short), "{text}");
                }
            }
        }
    }
}

#[test]
fn region_names_and_display() {
    let other = Region::from_code("1e3042").unwrap();
    let cases = [
        (
            Region::US,
            "bcbe5a",
            Some("United States"),
            Some("US"),
            "US (bcbe5a)",
        ),
        (
            Region::EU,
            "d7b62b",
            Some("Europe"),
            Some("EU"),
            "EU (d7b62b)",
        ),
        (
            Region::AU,
            "f1db6c",
            Some("Australia"),
            Some("AU"),
            "AU (f1db6c)",
        ),
        (other, "1e3042", None, None, "1e3042"),
    ];
    for (region, code, name, constant, display) in cases {
        assert_eq!(region.code(), code);
        assert_eq!(region.name(), name);
        assert_eq!(region.constant(), constant);
        assert_eq!(region.to_string(), display);
        assert_eq!(code.parse::<Region>().ok(), Some(region));
        assert_eq!(Region::from_code(code).ok(), Some(region));
    }
    assert_eq!(format!("{:?}", Region::EU), "Region::EU");
    assert_eq!(format!("{other:?}"), "Region(\"1e3042\")");
}

#[test]
fn from_code_takes_exactly_the_url_form() {
    for refused in ["BCBE5A", "us", "", "1e304", "1e30420", "1e304z", " 1e3042"] {
        assert!(Region::from_code(refused).is_err(), "{refused:?}");
    }
    // A named region's code is that region, not a second one beside it.
    assert_eq!(Region::from_code("d7b62b").unwrap(), Region::EU);
    let matched = match Region::from_code("f1db6c").unwrap() {
        Region::AU => "AU",
        _ => "other",
    };
    assert_eq!(matched, "AU");
}

#[test]
fn hosted_endpoints() {
    let regions = Region::NAMED
        .into_iter()
        .chain([Region::from_code("1e3042").unwrap()]);
    for region in regions {
        let code = region.code();
        let endpoints = Endpoints::hosted(region);
        assert_eq!(
            endpoints.api_base(),
            format!("https://api-{code}.stack.tryrelevance.com/latest/")
        );
        assert_eq!(
            endpoints.stream_base(),
            format!("https://{code}.streaming.tryrelevance.com/v1/stream")
        );
    }
}

#[test]
fn base_url_resolution_table() {
    // (base, region, api base, stream base)
    let cases = [
        (
            "http://127.0.0.1:8787",
            Region::US,
            "http://127.0.0.1:8787/bcbe5a/latest/",
            "http://127.0.0.1:8787/bcbe5a/v1/stream",
        ),
        (
            "http://127.0.0.1:8787/",
            Region::EU,
            "http://127.0.0.1:8787/d7b62b/latest/",
            "http://127.0.0.1:8787/d7b62b/v1/stream",
        ),
        (
            "http://127.0.0.1:8787///",
            Region::AU,
            "http://127.0.0.1:8787/f1db6c/latest/",
            "http://127.0.0.1:8787/f1db6c/v1/stream",
        ),
        (
            "https://emu.example/prefix",
            Region::US,
            "https://emu.example/prefix/bcbe5a/latest/",
            "https://emu.example/prefix/bcbe5a/v1/stream",
        ),
        (
            "https://emu.example/prefix/",
            Region::US,
            "https://emu.example/prefix/bcbe5a/latest/",
            "https://emu.example/prefix/bcbe5a/v1/stream",
        ),
        (
            "http://127.0.0.1:8787",
            Region::from_code("1e3042").unwrap(),
            "http://127.0.0.1:8787/1e3042/latest/",
            "http://127.0.0.1:8787/1e3042/v1/stream",
        ),
        (
            " http://LOCALHOST:80/a/b ",
            Region::EU,
            "http://localhost/a/b/d7b62b/latest/",
            "http://localhost/a/b/d7b62b/v1/stream",
        ),
    ];
    for (base, region, api, stream) in cases {
        let endpoints = Endpoints::with_base_url(base, region).unwrap();
        assert_eq!(endpoints.api_base(), api, "{base}");
        assert_eq!(endpoints.stream_base(), stream, "{base}");
    }
}

#[test]
fn invalid_base_urls_are_refused_with_a_reason() {
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        ("127.0.0.1:8787", "not a URL"),
        ("localhost:8787", "scheme"),
        ("ftp://host", "scheme"),
        ("not a url", "not a URL"),
        ("http://host/?a=1", "query"),
        ("http://host/#frag", "fragment"),
        ("file:///tmp/x", "scheme"),
    ];
    for (base, reason_part) in cases {
        match Endpoints::with_base_url(base, Region::US) {
            Err(Error::InvalidBaseUrl { value, reason }) => {
                assert_eq!(value, base);
                assert!(reason.contains(reason_part), "{base:?}: {reason}");
            }
            other => panic!("{base:?}: expected InvalidBaseUrl, got {other:?}"),
        }
    }
}

#[test]
fn api_url_table() {
    let hosted = Endpoints::hosted(Region::US);
    let local = Endpoints::with_base_url("http://127.0.0.1:9/pre", Region::EU).unwrap();
    let cases = [
        (
            &hosted,
            "agents/list",
            "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/list",
        ),
        (
            &hosted,
            "/agents/list",
            "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/list",
        ),
        (
            &hosted,
            "///agents/a1/get",
            "https://api-bcbe5a.stack.tryrelevance.com/latest/agents/a1/get",
        ),
        (
            &local,
            "agents/list",
            "http://127.0.0.1:9/pre/d7b62b/latest/agents/list",
        ),
        (
            &local,
            "//workforce/items/w1",
            "http://127.0.0.1:9/pre/d7b62b/latest/workforce/items/w1",
        ),
        (
            &local,
            "a:b/get",
            "http://127.0.0.1:9/pre/d7b62b/latest/a:b/get",
        ),
        (
            &local,
            "https://files.example/up?sig=1",
            "https://files.example/up?sig=1",
        ),
        (&hosted, "HTTP://other.example/x", "http://other.example/x"),
    ];
    for (endpoints, path, expected) in cases {
        assert_eq!(
            endpoints.api_url(path).unwrap().as_str(),
            expected,
            "{path}"
        );
    }
}

#[test]
fn stream_url_pastes_the_token() {
    let hosted = Endpoints::hosted(Region::AU);
    assert_eq!(
        hosted.stream_url("tok-1_2.3"),
        "https://f1db6c.streaming.tryrelevance.com/v1/stream?authorization=Bearer+tok-1_2.3"
    );
    let local = Endpoints::with_base_url("http://127.0.0.1:8787/", Region::US).unwrap();
    assert_eq!(
        local.stream_url("abc"),
        "http://127.0.0.1:8787/bcbe5a/v1/stream?authorization=Bearer+abc"
    );
}
