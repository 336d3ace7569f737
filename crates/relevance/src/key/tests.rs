use super::*;

const LONG_SECRET: &str = "sk-SUPERSECRETVALUE-do-not-leak-9f3k";

#[test]
fn official_fixtures_round_trip() {
    // (fixture, region, scope, is_embed, task prefix)
    let fixtures = [
        (
            r#"{"key":"test-key","region":"bcbe5a","project":"test-project"}"#,
            Region::US,
            KeyScope::Project,
            false,
            None,
        ),
        (
            r#"{"key":"embed-key","region":"d7b62b","project":"test-project","agentId":"agent-123","taskPrefix":"prefix-abc"}"#,
            Region::EU,
            KeyScope::Agent("agent-123".into()),
            true,
            Some("prefix-abc"),
        ),
        (
            r#"{"key":"embed-key","region":"bcbe5a","project":"test-project","workforceId":"workforce-456","taskPrefix":"prefix-xyz"}"#,
            Region::US,
            KeyScope::Workforce("workforce-456".into()),
            true,
            Some("prefix-xyz"),
        ),
    ];
    for (fixture, region, scope, is_embed, prefix) in fixtures {
        let key = Key::from_json(fixture).unwrap();
        assert_eq!(key.region(), region, "{fixture}");
        assert_eq!(key.project(), "test-project");
        assert_eq!(key.scope(), scope, "{fixture}");
        assert_eq!(key.is_embed(), is_embed, "{fixture}");
        assert_eq!(key.task_prefix(), prefix, "{fixture}");
        let written = key.to_json();
        let original: Value = serde_json::from_str(fixture).unwrap();
        let again: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(again, original, "{fixture}");
        // Same field order as the official client (the fixtures are in it).
        assert_eq!(written, fixture);
        // And restoring the written form gives the same key again.
        assert_eq!(Key::from_json(&written).unwrap().to_json(), written);
    }
}

#[test]
fn to_json_field_order_is_fixed() {
    let key = Key::embed(
        "s",
        Region::AU,
        "p",
        EmbedTarget::Workforce("w".into()),
        "x",
    )
    .unwrap();
    assert_eq!(
        key.to_json(),
        r#"{"key":"s","region":"f1db6c","project":"p","workforceId":"w","taskPrefix":"x"}"#
    );
}

#[test]
fn to_json_escapes_strings() {
    let key = Key::new("a\"b\\c\u{1}", Region::US, "p\n").unwrap();
    let restored = Key::from_json(&key.to_json()).unwrap();
    assert_eq!(restored.secret.expose_secret(), "a\"b\\c\u{1}");
    assert_eq!(restored.project(), "p\n");
}

#[test]
fn agent_id_without_task_prefix_is_not_an_embed_key() {
    let fixture = r#"{"key":"k","region":"bcbe5a","project":"p","agentId":"a1"}"#;
    let key = Key::from_json(fixture).unwrap();
    assert!(!key.is_embed());
    assert_eq!(key.scope(), KeyScope::Project);
    assert_eq!(key.agent_id(), Some("a1"));
    assert_eq!(key.to_json(), fixture);

    let prefix_only = r#"{"key":"k","region":"bcbe5a","project":"p","taskPrefix":"t"}"#;
    let key = Key::from_json(prefix_only).unwrap();
    assert!(!key.is_embed());
    assert_eq!(key.scope(), KeyScope::Project);
    assert_eq!(key.to_json(), prefix_only);
}

#[test]
fn lenient_restore() {
    let cases = [
        (
            r#"{"key":"k","region":"us","project":"p","extra":[1,2]}"#,
            r#"{"key":"k","region":"bcbe5a","project":"p"}"#,
        ),
        (
            r#"{"key":"k","region":" EU ","project":"p","agentId":null,"workforceId":null,"taskPrefix":null}"#,
            r#"{"key":"k","region":"d7b62b","project":"p"}"#,
        ),
        (
            r#"{"project":"p","region":"f1db6c","key":"k","agentId":"a","taskPrefix":""}"#,
            r#"{"key":"k","region":"f1db6c","project":"p","agentId":"a"}"#,
        ),
        // A fourth region, as the official JS SDK persists it (PROTOCOL A1, A4).
        (
            r#"{"key":"e","region":"1e3042","project":"p","agentId":"a","taskPrefix":"x"}"#,
            r#"{"key":"e","region":"1e3042","project":"p","agentId":"a","taskPrefix":"x"}"#,
        ),
        (
            r#"{"key":"k","region":"1E3042","project":"p"}"#,
            r#"{"key":"k","region":"1e3042","project":"p"}"#,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            Key::from_json(input).unwrap().to_json(),
            expected,
            "{input}"
        );
    }
}

#[test]
fn malformed_persisted_keys_name_the_problem() {
    let cases = [
            ("{\"key\":", "persisted key: invalid JSON at line 1 column 7"),
            ("nope", "persisted key: invalid JSON at line 1 column 2"),
            ("", "persisted key: invalid JSON at line 1 column 0"),
            ("[1,2]", "persisted key: not a JSON object"),
            ("\"sk-abc\"", "persisted key: not a JSON object"),
            ("null", "persisted key: not a JSON object"),
            (r#"{"region":"bcbe5a","project":"p"}"#, "persisted key: missing field `key`"),
            (r#"{"key":null,"region":"bcbe5a","project":"p"}"#, "persisted key: missing field `key`"),
            (r#"{"key":"k","project":"p"}"#, "persisted key: missing field `region`"),
            (r#"{"key":"k","region":"bcbe5a"}"#, "persisted key: missing field `project`"),
            (r#"{"key":"","region":"bcbe5a","project":"p"}"#, "persisted key: field `key` is empty"),
            (r#"{"key":"k","region":"","project":"p"}"#, "persisted key: field `region` is empty"),
            (r#"{"key":"k","region":"bcbe5a","project":""}"#, "persisted key: field `project` is empty"),
            (r#"{"key":5,"region":"bcbe5a","project":"p"}"#, "persisted key: field `key`: expected a string, found a number"),
            (r#"{"key":"k","region":["us"],"project":"p"}"#, "persisted key: field `region`: expected a string, found an array"),
            (r#"{"key":"k","region":"bcbe5a","project":{}}"#, "persisted key: field `project`: expected a string, found an object"),
            (r#"{"key":"k","region":"bcbe5a","project":"p","agentId":7}"#, "persisted key: field `agentId`: expected a string, found a number"),
            (r#"{"key":"k","region":"bcbe5a","project":"p","taskPrefix":true}"#, "persisted key: field `taskPrefix`: expected a string, found a boolean"),
            (r#"{"key":"k","region":"zz","project":"p"}"#, "persisted key: field `region`: unknown region 'zz' (valid: a code of 6 lowercase hex characters such as bcbe5a (US), d7b62b (EU), f1db6c (AU), 1e3042; or us, eu, au)"),
            (r#"{"key":"k","region":"bcbe5a","project":"p","agentId":"a","workforceId":"w","taskPrefix":"t"}"#, "`agentId` and `workforceId` are both present"),
        ];
    for (input, expected) in cases {
        let error = Key::from_json(input).expect_err(input);
        assert!(matches!(error, Error::InvalidKey(_)), "{input}: {error:?}");
        let text = error.to_string();
        assert!(
            text.contains(expected),
            "{input}: got {text:?}, want {expected:?}"
        );
    }
}

#[test]
fn malformed_key_errors_never_show_the_secret() {
    let inputs = [
        format!(r#"{{"key":"{LONG_SECRET}","region":"zz","project":"p"}}"#),
        format!(r#"{{"key":"{LONG_SECRET}","region":"bcbe5a"}}"#),
        format!(r#"{{"key":"{LONG_SECRET}","region":"bcbe5a","project":"p""#),
    ];
    for input in inputs {
        let error = Key::from_json(&input).expect_err(&input);
        assert!(!error.to_string().contains("SUPERSECRET"));
        assert!(!format!("{error:?}").contains("SUPERSECRET"));
    }
}

#[test]
fn constructors_refuse_empty_values() {
    let cases: [(Result<Key>, &str); 5] = [
        (Key::new("", Region::US, "p"), "secret"),
        (Key::new("k", Region::US, ""), "project"),
        (
            Key::embed("k", Region::US, "p", EmbedTarget::Agent("".into()), "t"),
            "agent id",
        ),
        (
            Key::embed("k", Region::US, "p", EmbedTarget::Workforce("".into()), "t"),
            "workforce id",
        ),
        (
            Key::embed("k", Region::US, "p", EmbedTarget::Agent("a".into()), ""),
            "task prefix",
        ),
    ];
    for (result, field) in cases {
        match result {
            Err(Error::InvalidKey(KeyDataError::EmptyValue { field: got })) => {
                assert_eq!(got, field)
            }
            other => panic!("{field}: expected EmptyValue, got {other:?}"),
        }
    }
}

#[test]
fn scope_and_accessors() {
    let api = Key::new("k", Region::EU, "p").unwrap();
    assert_eq!(api.scope(), KeyScope::Project);
    assert!(!api.is_embed());
    assert_eq!(api.authorization_header().expose_secret(), "p:k");
    let embed = Key::embed("k", Region::EU, "p", EmbedTarget::Agent("a".into()), "t").unwrap();
    assert_eq!(embed.scope(), KeyScope::Agent("a".into()));
    assert_eq!(embed.agent_id(), Some("a"));
    assert_eq!(embed.workforce_id(), None);
    assert_eq!(embed.task_prefix(), Some("t"));
    assert!(embed.is_embed());
}

#[test]
fn debug_and_display_never_show_the_secret() {
    let api = Key::new(LONG_SECRET, Region::US, "proj-1").unwrap();
    let embed = Key::embed(
        LONG_SECRET,
        Region::EU,
        "proj-1",
        EmbedTarget::Agent("agent-9".into()),
        "pfx",
    )
    .unwrap();
    for key in [&api, &embed] {
        for text in [format!("{key:?}"), format!("{key:#?}"), key.to_string()] {
            assert!(!text.contains("SUPERSECRET"), "{text}");
            assert!(!text.contains(LONG_SECRET), "{text}");
            assert!(text.contains("…9f3k"), "{text}");
            assert!(text.contains("proj-1"), "{text}");
        }
    }
    assert_eq!(
        api.to_string(),
        "API key …9f3k for project proj-1 in US (bcbe5a)"
    );
    assert_eq!(
        embed.to_string(),
        "embed key …9f3k for agent agent-9 of project proj-1 in EU (d7b62b)"
    );
    let debug = format!("{embed:?}");
    assert!(debug.contains("\"embed\"") && debug.contains("pfx") && debug.contains("agent-9"));
}

#[test]
fn redaction_table() {
    let cases = [
        ("", "****"),
        ("short", "****"),
        ("fifteen-chars-x", "****"),
        ("sixteen-chars-xy", "…s-xy"),
        ("ééééééééééééébcd", "…ébcd"),
    ];
    for (secret, expected) in cases {
        assert_eq!(redact(secret), expected, "{secret}");
    }
    let short = Key::new("sk-short", Region::US, "p").unwrap();
    assert!(!format!("{short:?}").contains("sk-short"));
    assert!(!short.to_string().contains("hort"));
}
