//! Property tests of the emulator's parsers: the `Authorization` header, seed files,
//! workforce-task cursors, timestamps and task ids. Whatever the input, a typed answer and
//! never a panic. Bounded: 256 cases per property, shrinking on failure.

use axum::http::HeaderValue;
use proptest::prelude::*;

use crate::api::tasks::check_task_id;
use crate::auth::is_prefixed_uuid_v4;
use crate::auth::parse_authorization_for_tests as parse_header;
use crate::seed;
use crate::time::ms_at_or_after;

/// A valid seed, for mutating.
const SEED: &str = r#"
[[projects]]
id = "proj-a"
region = "us"
api_keys = ["sk-test-a-0001"]

[[projects.agents]]
id = "agent-public"
public = true
behavior = "script"
script = [{ reply = "hi {message}", delay_ms = 1 }]

[[projects.workforces]]
id = "wf-1"
agents = ["agent-public"]

[emulator]
streaming_token_ttl_ms = 200
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn authorization_headers_parse_or_are_refused_as_the_platform_does(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            match parse_header(Some(&value)) {
                Ok((project, secret)) => {
                    prop_assert!(!project.is_empty() && !secret.is_empty());
                    prop_assert!(!project.contains(':'));
                }
                Err(error) => {
                    // Missing or empty: 401; anything that cannot name a key: 400 `User key`.
                    let text = format!("{error:?}");
                    let missing = text.contains("401") && text.contains("authorization_header_missing");
                    let unknown = text.contains("400") && text.contains("User key");
                    prop_assert!(missing || unknown, "{}", text);
                }
            }
        }
    }

    #[test]
    fn well_formed_headers_round_trip(project in "[a-z0-9-]{1,20}", secret in "[A-Za-z0-9:_-]{1,40}", bearer in any::<bool>()) {
        let text = if bearer { format!("Bearer {project}:{secret}") } else { format!("{project}:{secret}") };
        let value = HeaderValue::from_str(&text).expect("ascii header");
        let parsed = parse_header(Some(&value));
        prop_assert_eq!(parsed.ok(), Some((project.clone(), secret.trim().to_string())));
    }

    #[test]
    fn any_seed_text_parses_or_names_a_line(text in ".{0,300}") {
        if let Err(problem) = seed::parse(&text) {
            prop_assert!(!problem.problem.is_empty());
        }
    }

    #[test]
    fn mutated_seeds_parse_or_name_a_line(at in any::<prop::sample::Index>(), cut in 0usize..40, insert in ".{0,12}") {
        let at = at.index(SEED.len());
        let at = (0..=at).rev().find(|i| SEED.is_char_boundary(*i)).unwrap_or(0);
        let end = (at + cut).min(SEED.len());
        let end = (end..=SEED.len()).find(|i| SEED.is_char_boundary(*i)).unwrap_or(SEED.len());
        let text = format!("{}{insert}{}", &SEED[..at], &SEED[end..]);
        if let Err(problem) = seed::parse(&text) {
            prop_assert!(!problem.problem.is_empty());
            let lines = text.lines().count() + 1;
            prop_assert!(problem.line <= lines, "line {} of {}", problem.line, lines);
        }
    }

    #[test]
    fn cursors_decode_or_are_refused(text in ".{0,80}", hex_of in ".{0,40}") {
        let _ = crate::api::workforce_tasks::decode_cursor_for_tests(&text);
        let _ = crate::api::workforce_tasks::decode_cursor_for_tests(&hex::encode(&hex_of));
    }

    #[test]
    fn timestamps_parse_or_are_none(text in ".{0,40}", ms in any::<i64>()) {
        let _ = ms_at_or_after(&text);
        let iso = crate::time::iso_from_ms(ms);
        let _ = ms_at_or_after(&iso);
    }

    #[test]
    fn task_id_checks_never_panic(id in ".{0,60}", prefix in "[A-Za-z0-9]{0,30}") {
        let accepted = check_task_id("id", &id).is_ok();
        if accepted {
            prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)));
        }
        let _ = is_prefixed_uuid_v4(&id, &prefix);
    }
}
