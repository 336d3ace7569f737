//! The Authorization header → the live platform's answers (PROTOCOL C): no header 401
//! `authorization_header_missing`, a header that names no live key of that project and
//! region 400 `unset_error_type` `User key ...`; and the region a key belongs to.

use reqwest::StatusCode;

use crate::support::*;

const AGENT_GET: &str = "/bcbe5a/latest/agents/agent-public/get";

#[tokio::test]
async fn missing_malformed_and_wrong_credentials_get_the_platforms_status_and_error_type_and_never_echo_the_key(
) {
    let running = start_seeded().await;
    let admin_token = running.emulator.admin_token().to_string();
    let swapped = format!("{KEY_A}:proj-a");
    let admin_as_project_key = format!("proj-a:{admin_token}");
    const MISSING: (StatusCode, &str) = (StatusCode::UNAUTHORIZED, "authorization_header_missing");
    const UNKNOWN: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "unset_error_type");
    // (header, expected status and error_type, a fragment the message must contain)
    let cases: Vec<(Option<&str>, (StatusCode, &str), &str)> = vec![
        (
            None,
            MISSING,
            "Authorization header cannot be missing or empty",
        ),
        (Some(""), MISSING, "expected `{project}:{key}`"),
        (Some("Bearer "), MISSING, "cannot be missing or empty"),
        (Some("nocolon"), UNKNOWN, "no ':'"),
        (
            Some(":sk-test-a-0001"),
            UNKNOWN,
            "project before ':' is empty",
        ),
        (Some("proj-a:"), UNKNOWN, "key after ':' is empty"),
        (
            Some("ghost:sk-test-a-0001"),
            UNKNOWN,
            "no project 'ghost' in region bcbe5a (US); check the project id and the region",
        ),
        (
            Some("proj-a:sk-test-a-9999"),
            UNKNOWN,
            "project 'proj-a' in region bcbe5a (US) has no live key with this value",
        ),
        (
            Some("proj-a:sk-test-b-0001"),
            UNKNOWN,
            "project 'proj-a' in region bcbe5a (US) has no live key",
        ),
        (
            Some("proj-eu:sk-test-eu-0001"),
            UNKNOWN,
            "lives in region d7b62b (EU), not bcbe5a (US)",
        ),
        (Some(swapped.as_str()), UNKNOWN, "no project"),
        (Some(admin_token.as_str()), UNKNOWN, "no ':'"),
        (
            Some(admin_as_project_key.as_str()),
            UNKNOWN,
            "has no live key",
        ),
    ];
    let secrets = [KEY_A, KEY_B, KEY_EU, "sk-test-a-9999", admin_token.as_str()];
    for (header, (status, error_type), fragment) in cases {
        let answer = running.get(AGENT_GET, header).await;
        assert_eq!(answer.status, status, "{header:?}: {}", answer.text);
        assert_eq!(answer.body["error_type"], error_type, "{header:?}");
        let message = answer.message();
        if status == StatusCode::BAD_REQUEST {
            assert!(message.starts_with("User key"), "{header:?}: {message}");
        }
        assert!(message.contains(fragment), "{header:?}: {message}");
        for secret in secrets {
            assert!(
                !answer.text.contains(secret),
                "{header:?} echoed a key: {}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn a_valid_key_works_with_or_without_bearer_and_only_in_its_region() {
    let running = start_seeded().await;
    for header in ["proj-a:sk-test-a-0001", "Bearer proj-a:sk-test-a-0001"] {
        let answer = running.get(AGENT_GET, Some(header)).await;
        assert_eq!(answer.status, StatusCode::OK, "{header}: {}", answer.text);
        assert_eq!(answer.body["agent"]["agent_id"], "agent-public");
    }
    let eu = running
        .get(
            "/d7b62b/latest/agents/eu-agent/get",
            Some("proj-eu:sk-test-eu-0001"),
        )
        .await;
    assert_eq!(eu.status, StatusCode::OK, "{}", eu.text);
    let us_key_in_eu = running
        .get(
            "/d7b62b/latest/agents/agent-public/get",
            Some("proj-a:sk-test-a-0001"),
        )
        .await;
    assert_eq!(us_key_in_eu.status, StatusCode::BAD_REQUEST);
    assert!(us_key_in_eu
        .message()
        .contains("lives in region bcbe5a (US), not d7b62b (EU)"));
}

#[tokio::test]
async fn an_unknown_region_code_is_404_naming_the_valid_codes() {
    let running = start_seeded().await;
    for path in [
        "/zzzzzz/latest/agents/agent-public/get",
        "/zzzzzz/latest/no/such/route",
    ] {
        let answer = running.get(path, Some("proj-a:sk-test-a-0001")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        for code in ["bcbe5a", "d7b62b", "f1db6c"] {
            assert!(
                answer.message().contains(code),
                "{path}: {}",
                answer.message()
            );
        }
    }
}

#[tokio::test]
async fn an_api_key_reads_agents_and_workforces_of_its_own_project_only() {
    let running = start_seeded().await;
    let auth = Some("proj-a:sk-test-a-0001");
    let agent = running.get(AGENT_GET, auth).await;
    let config = &agent.body["agent"];
    assert_eq!(config["agent_id"], "agent-public");
    assert_eq!(config["_id"], "agent-public");
    assert_eq!(config["public"], true);
    assert_eq!(config["project"], "proj-a");
    assert_eq!(config["name"], "Support");
    assert_eq!(config["description"], "Answers questions");
    assert_eq!(config["emoji"], "🤖");
    assert_eq!(config["model"], "emulated");
    assert!(config["insert_date_"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));
    assert!(config["update_date_"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));

    let private = running
        .get("/bcbe5a/latest/agents/agent-private/get", auth)
        .await;
    assert_eq!(private.status, StatusCode::OK);
    let object = private.body["agent"].as_object().expect("agent object");
    for absent in ["name", "description", "emoji"] {
        assert!(
            !object.contains_key(absent),
            "{absent} must be omitted, not null"
        );
    }

    let other_project = running.get("/bcbe5a/latest/agents/b-agent/get", auth).await;
    assert_eq!(other_project.status, StatusCode::NOT_FOUND);

    let workforce = running
        .get("/bcbe5a/latest/workforce/items/wf-1", auth)
        .await;
    assert_eq!(workforce.status, StatusCode::OK);
    assert_eq!(
        workforce.body,
        serde_json::json!({"id": "wf-1", "workforce_metadata": {"name": "Front desk"}})
    );
    let unnamed = running
        .get("/bcbe5a/latest/workforce/items/wf-2", auth)
        .await;
    assert_eq!(unnamed.body["workforce_metadata"]["name"], "wf-2");
}

#[tokio::test]
async fn agents_list_is_ordered_by_id_and_paged() {
    let running = start_seeded().await;
    let auth = Some("proj-a:sk-test-a-0001");
    let ids = |answer: &Answer| -> Vec<String> {
        answer.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|agent| agent["agent_id"].as_str().expect("agent_id").to_string())
            .collect()
    };
    let all = running.post("/bcbe5a/latest/agents/list", auth, "").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(ids(&all), ["agent-other", "agent-private", "agent-public"]);
    let second = running
        .post(
            "/bcbe5a/latest/agents/list",
            auth,
            r#"{"page_size":1,"page":2}"#,
        )
        .await;
    assert_eq!(ids(&second), ["agent-private"]);
    let beyond = running
        .post(
            "/bcbe5a/latest/agents/list",
            auth,
            r#"{"page_size":20,"page":2}"#,
        )
        .await;
    assert!(ids(&beyond).is_empty());
}

/// A credential pasted into a path (as an agent or task id) never comes back: not in the
/// error, not in the request log. Checked with values that do not look like keys — a seeded
/// key without a prefix, the admin token, a streaming token — since a prefix test is not enough.
#[tokio::test]
async fn credentials_pasted_into_paths_are_redacted_from_errors_and_the_request_log() {
    let seed = SEED.replace(
        r#"api_keys = ["sk-test-a-0001"]"#,
        r#"api_keys = ["sk-test-a-0001", "plainvalue-0123456789"]"#,
    );
    let dir = tempfile::TempDir::new().expect("tempdir");
    let running = Running {
        emulator: start(relevance_emulator::Config {
            seed: Some(relevance_emulator::SeedSource::Text(seed.to_string())),
            ..relevance_emulator::Config::default()
        })
        .await,
        http: reqwest::Client::new(),
        seed_dir: dir,
    };
    let api = format!("proj-a:{KEY_A}");
    let trigger = running
        .post(
            &format!("/{US}/latest/agents/trigger"),
            Some(&api),
            r#"{"agent_id":"agent-public","message":{"role":"user","content":"hi"}}"#,
        )
        .await;
    let task = trigger.body["conversation_id"].as_str().expect("task id");
    let meta = running
        .get(
            &format!("/{US}/latest/agents/agent-public/tasks/{task}/metadata?include_streaming_token=true"),
            Some(&api),
        )
        .await;
    let token = meta.body["streaming_token"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    let admin_token = running.emulator.admin_token().to_string();
    for secret in [
        "plainvalue-0123456789",
        admin_token.as_str(),
        token.as_str(),
    ] {
        for path in [
            format!("/{US}/latest/agents/{secret}/get"),
            format!("/{US}/latest/agents/agent-public/tasks/{secret}/metadata"),
            format!("/{US}/latest/nothing/{secret}"),
        ] {
            let answer = running.get(&path, Some(&api)).await;
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{path}: {}",
                answer.text
            );
            assert!(!answer.text.contains(secret), "{path}: {}", answer.text);
            assert!(answer.message().contains("(redacted)"), "{}", answer.text);
        }
    }
    let log = running
        .get("/admin/requests?limit=100", Some(&running.admin()))
        .await;
    for secret in [
        "plainvalue-0123456789",
        admin_token.as_str(),
        token.as_str(),
    ] {
        assert!(!log.text.contains(secret), "the request log holds a secret");
    }
    assert!(log.text.contains("(redacted)"));
}

/// The helpful wording is the default; `generic_auth_errors` makes every refused key one
/// message (still the platform's 400 `User key ...`, so clients classify it the same).
#[tokio::test]
async fn generic_auth_errors_make_every_refused_key_the_same() {
    let helpful = start_seeded().await;
    let generic = start_seeded_with(|config| config.generic_auth_errors = true).await;
    let cases = [
        format!("/{US}/latest/agents/agent-public/get"),
        format!("/{EU}/latest/agents/agent-public/get"),
    ];
    let headers = [
        "nocolon".to_string(),
        "proj-nope:sk-whatever".to_string(),
        format!("proj-a:{KEY_B}"),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for path in &cases {
        for header in &headers {
            let answer = generic.get(path, Some(header)).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path} {header}");
            assert_eq!(answer.body["error_type"], "unset_error_type");
            messages.insert(answer.message().to_string());
        }
    }
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages
        .iter()
        .all(|message| message.starts_with("User key")));
    // The default keeps the wording the SDK relies on.
    let wrong_region = helpful
        .get(&cases[1], Some(&format!("proj-a:{KEY_A}")))
        .await;
    assert!(
        wrong_region.message().contains("lives in region"),
        "{}",
        wrong_region.text
    );
    let unknown = helpful.get(&cases[0], Some("proj-nope:sk-x")).await;
    assert!(
        unknown.message().contains("no project 'proj-nope'"),
        "{}",
        unknown.text
    );
}
