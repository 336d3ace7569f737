use super::*;
use crate::key::EmbedTarget;
use crate::region::Region;

const SECRET: &str = "embed-SUPERSECRET-value-0042";
const NAME: &str = "relevance-key";

fn embed_key() -> Key {
    Key::embed(
        SECRET,
        Region::US,
        "p1",
        EmbedTarget::Agent("a1".into()),
        "pfx",
    )
    .unwrap()
}

/// The `name=value` pair of a `Set-Cookie` line, as a browser sends it back.
fn pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

#[test]
fn a_key_goes_to_set_cookie_and_comes_back_from_the_cookie_header() {
    let cookie = KeyCookie::new(NAME);
    let keys = [
        embed_key(),
        Key::embed(
            "w-secret",
            Region::EU,
            "p 2",
            EmbedTarget::Workforce("w;1".into()),
            "pfx=\"x\"",
        )
        .unwrap(),
        Key::new("sk-api", Region::AU, "päivä").unwrap(),
    ];
    for key in keys {
        let set_cookie = cookie.set_cookie(&key).unwrap();
        let restored = cookie.read(pair(&set_cookie)).unwrap().expect("found");
        assert_eq!(restored.to_json(), key.to_json());
    }
}

#[test]
fn the_value_is_the_persisted_json_as_encode_uri_component_writes_it() {
    let set_cookie = KeyCookie::new(NAME).set_cookie(&embed_key()).unwrap();
    // encodeURIComponent('{"key":"embed-SUPERSECRET-value-0042","region":"bcbe5a",...}')
    let expected = "relevance-key=%7B%22key%22%3A%22embed-SUPERSECRET-value-0042%22%2C%22region%22%3A%22bcbe5a%22%2C%22project%22%3A%22p1%22%2C%22agentId%22%3A%22a1%22%2C%22taskPrefix%22%3A%22pfx%22%7D";
    assert_eq!(pair(&set_cookie), expected);
    // Only cookie-octets (RFC 6265): no quote, comma, semicolon, backslash or space.
    let value = expected.split_once('=').unwrap().1;
    assert!(value
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b)));
    // Characters encodeURIComponent keeps are kept.
    let key = Key::new("a-b_c.d!e~f*g'h(i)j", Region::US, "p").unwrap();
    let set_cookie = KeyCookie::new(NAME).set_cookie(&key).unwrap();
    assert!(
        pair(&set_cookie).contains("a-b_c.d!e~f*g'h(i)j"),
        "{}",
        pair(&set_cookie)
    );
}

#[test]
fn set_cookie_carries_every_attribute() {
    let set_cookie = KeyCookie::new(NAME).set_cookie(&embed_key()).unwrap();
    let attributes: Vec<&str> = set_cookie.split("; ").skip(1).collect();
    let mut sorted = attributes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "HttpOnly",
            "Max-Age=34560000",
            "Path=/",
            "SameSite=Strict",
            "Secure"
        ],
        "{attributes:?}"
    );

    let custom = KeyCookie::new(NAME).attributes(
        CookieAttributes::default()
            .path("/app")
            .max_age(Duration::from_secs(3600))
            .same_site(CookieSameSite::Lax)
            .secure(false),
    );
    let set_cookie = custom.set_cookie(&embed_key()).unwrap();
    let mut attributes: Vec<&str> = set_cookie.split("; ").skip(1).collect();
    attributes.sort();
    assert_eq!(
        attributes,
        ["HttpOnly", "Max-Age=3600", "Path=/app", "SameSite=Lax"]
    );

    let removal = KeyCookie::new(NAME).removal().unwrap();
    assert!(removal.starts_with("relevance-key=;"), "{removal}");
    assert!(removal.contains("Max-Age=0") && removal.contains("Path=/"));
}

#[test]
fn other_cookies_in_the_header_are_ignored() {
    let cookie = KeyCookie::new(NAME);
    let value = pair(&cookie.set_cookie(&embed_key()).unwrap()).to_string();
    let headers = [
        format!("theme=dark; {value}; session=abc"),
        format!("{value};theme=dark"),
        format!("  broken; =nameless; relevance-key-2=garbage; {value}"),
        format!("x-relevance-key=garbage; {value}"),
    ];
    for header in headers {
        let key = cookie.read(&header).unwrap().expect("found among others");
        assert_eq!(key.to_json(), embed_key().to_json(), "{header}");
    }
    assert!(cookie.read("").unwrap().is_none());
    assert!(cookie
        .read("theme=dark; relevance-key-2=x")
        .unwrap()
        .is_none());
    // A double-quoted value (allowed by RFC 6265) is unwrapped.
    let quoted = format!("{NAME}=\"{}\"", value.split_once('=').unwrap().1);
    assert!(cookie.read(&quoted).unwrap().is_some());
    // A JSON value a careless app wrote unencoded still restores.
    let raw = format!("{NAME}={}", embed_key().to_json());
    assert_eq!(
        cookie.read(&raw).unwrap().unwrap().to_json(),
        embed_key().to_json()
    );
}

#[test]
fn a_cookie_that_is_not_a_key_is_a_typed_error_without_the_value() {
    let cookie = KeyCookie::new(NAME);
    let cases: Vec<(String, KeyDataError)> = vec![
        (
            format!("{NAME}=garbage"),
            KeyDataError::InvalidJson { line: 1, column: 1 },
        ),
        (
            format!("{NAME}="),
            KeyDataError::InvalidJson { line: 1, column: 0 },
        ),
        (format!("{NAME}=%FF%FE"), KeyDataError::InvalidEncoding),
        (format!("{NAME}=%5B1%5D"), KeyDataError::NotAnObject),
        (
            format!("{NAME}=%7B%22key%22%3A%22{SECRET}%22%7D"),
            KeyDataError::MissingField { field: "region" },
        ),
    ];
    for (header, expected) in cases {
        match cookie.read(&header) {
            Err(Error::InvalidKey(problem)) => {
                assert_eq!(problem, expected, "{header}");
                let shown = format!("{problem} {problem:?}");
                assert!(!shown.contains("SUPERSECRET"), "{shown}");
            }
            other => panic!("{header}: expected {expected:?}, got {other:?}"),
        }
    }
}

#[test]
fn a_cookie_over_four_kilobytes_is_refused() {
    let cookie = KeyCookie::new(NAME);
    // Exactly at the limit is kept; one byte more is not.
    let overhead = NAME.len() + encode(&Key::new("x", Region::US, "p").unwrap()).len() - 1;
    let fits = Key::new("s".repeat(COOKIE_SIZE_LIMIT - overhead), Region::US, "p").unwrap();
    let set_cookie = cookie.set_cookie(&fits).unwrap();
    // `name=value`: the limit counts name and value, not the `=`.
    assert_eq!(pair(&set_cookie).len(), COOKIE_SIZE_LIMIT + 1);
    let big = Key::new(
        format!(
            "SUPERSECRET{}",
            "s".repeat(COOKIE_SIZE_LIMIT - overhead - 11 + 1)
        ),
        Region::US,
        "p",
    )
    .unwrap();
    let error = cookie.set_cookie(&big).unwrap_err();
    match &error {
        Error::Cookie(CookieError::TooLarge { name, size, limit }) => {
            assert_eq!(name, NAME);
            assert_eq!(*limit, 4096);
            assert_eq!(*size, 4097);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("SUPERSECRET"), "{shown}");
    assert!(shown.contains("4096-byte limit"), "{shown}");
}

#[test]
fn bad_names_and_attributes_are_typed_errors() {
    for name in ["", "a b", "a;b", "a=b", "k\u{e9}y", "a\"b", "a\nb"] {
        let error = KeyCookie::new(name).set_cookie(&embed_key()).unwrap_err();
        assert!(
            matches!(error, Error::Cookie(CookieError::InvalidName { .. })),
            "{name:?}: {error:?}"
        );
        assert!(matches!(
            KeyCookie::new(name).read("a=b"),
            Err(Error::Cookie(CookieError::InvalidName { .. }))
        ));
    }
    let cases = [
        (CookieAttributes::default().path("app"), "Path"),
        (CookieAttributes::default().path("/a;Domain=evil"), "Path"),
        (CookieAttributes::default().path("/".repeat(1025)), "Path"),
        (
            CookieAttributes::default().max_age(Duration::from_millis(500)),
            "Max-Age",
        ),
        (CookieAttributes::default().secure(false), "Secure"),
    ];
    for (attributes, expected) in cases {
        let cookie = KeyCookie::new("__Host-k").attributes(attributes.clone());
        match cookie.set_cookie(&embed_key()) {
            Err(Error::Cookie(CookieError::InvalidAttribute { attribute, .. })) => {
                assert_eq!(attribute, expected, "{attributes:?}")
            }
            other => panic!("{attributes:?}: expected {expected}, got {other:?}"),
        }
    }
    // __Host- wants Path=/ too; __Secure- only Secure.
    let host = KeyCookie::new("__Host-k").attributes(CookieAttributes::default().path("/x"));
    assert!(host.set_cookie(&embed_key()).is_err());
    let secure = KeyCookie::new("__Secure-k").attributes(CookieAttributes::default().path("/x"));
    assert!(secure.set_cookie(&embed_key()).is_ok());
    assert!(KeyCookie::new("__Host-k").set_cookie(&embed_key()).is_ok());
}
