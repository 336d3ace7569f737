use super::*;
use std::collections::HashMap;

const LONG_SECRET: &str = "sk-SUPERSECRETVALUE-do-not-leak-7q2w";

/// Environment variables as name/value pairs.
type Vars<'a> = Vec<(&'a str, &'a str)>;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn from_env_lookup_success_table() {
    // (vars, region, api base)
    let cases: [(Vars, Region, &str); 3] = [
        (
            vec![
                ("RELEVANCE_API_KEY", "sk-1"),
                ("RELEVANCE_PROJECT", "p"),
                ("RELEVANCE_REGION", "bcbe5a"),
            ],
            Region::US,
            "https://api-bcbe5a.stack.tryrelevance.com/latest/",
        ),
        (
            vec![
                ("RELEVANCE_API_KEY", "sk-1"),
                ("RELEVANCE_PROJECT", "p"),
                ("RELEVANCE_REGION", "eu"),
                ("RELEVANCE_BASE_URL", "http://127.0.0.1:8787/"),
            ],
            Region::EU,
            "http://127.0.0.1:8787/d7b62b/latest/",
        ),
        (
            vec![
                ("RELEVANCE_API_KEY", "sk-1"),
                ("RELEVANCE_PROJECT", "p"),
                ("RELEVANCE_REGION", "AU"),
                ("RELEVANCE_BASE_URL", ""),
            ],
            Region::AU,
            "https://api-f1db6c.stack.tryrelevance.com/latest/",
        ),
    ];
    for (vars, region, api) in cases {
        let client = Client::from_env_lookup(lookup(&vars)).unwrap();
        assert_eq!(client.region(), region);
        assert_eq!(client.project(), "p");
        assert!(!client.is_embed_key());
        assert_eq!(client.endpoints().api_base(), api);
    }
}

#[test]
fn from_env_lookup_failure_table() {
    let full = [
        ("RELEVANCE_API_KEY", LONG_SECRET),
        ("RELEVANCE_PROJECT", "p"),
        ("RELEVANCE_REGION", "us"),
    ];
    let without = |name: &str| -> Vec<(&str, &str)> {
        full.iter().copied().filter(|(k, _)| *k != name).collect()
    };
    let with = |name: &'static str, value: &'static str| -> Vec<(&str, &str)> {
        let mut vars = without(name);
        vars.push((name, value));
        vars
    };
    // (vars, expected variable, missing?, reason fragment)
    let cases: Vec<(Vars, &str, bool, &str)> = vec![
            (vec![], "RELEVANCE_API_KEY", true, ""),
            (without("RELEVANCE_API_KEY"), "RELEVANCE_API_KEY", true, ""),
            (
                with("RELEVANCE_API_KEY", "  "),
                "RELEVANCE_API_KEY",
                true,
                "",
            ),
            (without("RELEVANCE_PROJECT"), "RELEVANCE_PROJECT", true, ""),
            (without("RELEVANCE_REGION"), "RELEVANCE_REGION", true, ""),
            (
                with("RELEVANCE_REGION", "mars"),
                "RELEVANCE_REGION",
                false,
                "unknown region 'mars' (valid: a code of 6 lowercase hex characters such as bcbe5a (US)",
            ),
            (
                {
                    let mut vars = full.to_vec();
                    vars.push(("RELEVANCE_BASE_URL", "ftp://x"));
                    vars
                },
                "RELEVANCE_BASE_URL",
                false,
                "scheme must be http or https",
            ),
            (
                {
                    let mut vars = full.to_vec();
                    vars.push(("RELEVANCE_BASE_URL", "127.0.0.1:8787"));
                    vars
                },
                "RELEVANCE_BASE_URL",
                false,
                "not a URL",
            ),
        ];
    for (vars, variable, missing, reason_part) in cases {
        let error = Client::from_env_lookup(lookup(&vars)).expect_err(variable);
        let text = error.to_string();
        assert!(text.contains(variable), "{text}");
        assert!(!text.contains("SUPERSECRET"), "{text}");
        match error {
            Error::MissingEnv { variable: got } if missing => assert_eq!(got, variable),
            Error::InvalidEnv {
                variable: got,
                reason,
            } if !missing => {
                assert_eq!(got, variable);
                assert!(reason.contains(reason_part), "{reason}");
            }
            other => panic!("{variable}: unexpected {other:?}"),
        }
    }
}

#[test]
fn builder_base_url_wins_over_the_environment() {
    let key = Key::new("k", Region::AU, "p").unwrap();
    let client = Client::builder(key)
        .base_url("http://127.0.0.1:1/x")
        .build_with_env(&lookup(&[("RELEVANCE_BASE_URL", "http://127.0.0.1:2")]))
        .unwrap();
    assert_eq!(
        client.endpoints().api_base(),
        "http://127.0.0.1:1/x/f1db6c/latest/"
    );
    assert_eq!(
        client.endpoints().stream_base(),
        "http://127.0.0.1:1/x/f1db6c/v1/stream"
    );

    let key = Key::new("k", Region::AU, "p").unwrap();
    let bad = Client::builder(key)
        .base_url("nope")
        .build_with_env(&lookup(&[]));
    assert!(matches!(bad, Err(Error::InvalidBaseUrl { .. })));
}

#[test]
fn builder_settings_are_accepted() {
    let key = Key::new("k", Region::US, "p").unwrap();
    let client = Client::builder(key)
        .timeout(Duration::from_secs(5))
        .user_agent("my-app/1.0")
        .build_with_env(&lookup(&[]))
        .unwrap();
    assert_eq!(client.endpoints(), &Endpoints::hosted(Region::US));
    assert_eq!(client.retry_policy(), RetryPolicy::default());
    let key = Key::new("k", Region::US, "p").unwrap();
    let client = Client::builder(key)
        .retries(RetryPolicy::none())
        .build_with_env(&lookup(&[]))
        .unwrap();
    assert_eq!(client.retry_policy().max_attempts, 1);
    let key = Key::new("k", Region::US, "p").unwrap();
    let client = Client::builder(key)
        .http_client(reqwest::Client::new())
        .build_with_env(&lookup(&[]))
        .unwrap();
    assert_eq!(client.key().project(), "p");
}

#[test]
fn debug_never_shows_the_secret() {
    let key = Key::new(LONG_SECRET, Region::EU, "proj-1").unwrap();
    let client = Client::builder(key.clone())
        .base_url("http://127.0.0.1:8787")
        .build()
        .unwrap();
    let options = ApiKeyOptions {
        api_key: LONG_SECRET.to_string(),
        region: Region::EU,
        project: "proj-1".into(),
    };
    let texts = [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{options:?}"),
        format!("{:?}", Credentials::from(options.clone())),
        format!("{:?}", Credentials::from(key)),
        format!(
            "{:?}",
            Client::builder(Key::new(LONG_SECRET, Region::EU, "p").unwrap())
        ),
    ];
    for text in texts {
        assert!(!text.contains("SUPERSECRET"), "{text}");
    }
    let debug = format!("{client:?}");
    assert!(debug.contains("proj-1") && debug.contains("EU") && debug.contains("/d7b62b/latest/"));
    assert!(format!("{options:?}").contains("…7q2w"));
}
