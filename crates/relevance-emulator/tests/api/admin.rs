//! The admin API: its guard, keys, revocation and the request log.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn only_the_admin_token_opens_the_admin_api() {
    let running = start_seeded().await;
    let (embed_key, _) = running.agent_embed_key("agent-public").await;
    let token = running.emulator.admin_token().to_string();
    let wrong = format!("Bearer {token}x");
    let project_key = "proj-a:sk-test-a-0001".to_string();
    let bearer_project_key = format!("Bearer {project_key}");
    let embed = format!("Bearer proj-a:{embed_key}");
    let cases: Vec<Option<&str>> = vec![
        None,
        Some(""),
        Some(&wrong),
        Some("Bearer "),
        Some(&token),
        Some(&project_key),
        Some(&bearer_project_key),
        Some(&embed),
    ];
    for path in [
        "/admin/projects",
        "/admin/requests",
        "/admin/projects/proj-a/keys",
    ] {
        for header in &cases {
            let answer = running.get(path, *header).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path} {header:?}");
            assert!(!answer.message().is_empty());
            assert!(!answer.text.contains(&token) && !answer.text.contains(&embed_key));
        }
    }
    let ok = running.get("/admin/projects", Some(&running.admin())).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.body,
        serde_json::json!({"projects": [
            {"id": "proj-a", "region": "bcbe5a"},
            {"id": "proj-b", "region": "bcbe5a"},
            {"id": "proj-eu", "region": "d7b62b"},
        ]})
    );
}

#[tokio::test]
async fn the_admin_token_given_in_the_config_is_the_one_accepted() {
    let running = start_seeded_with(|config| config.admin_token = Some("tok3n".into())).await;
    assert_eq!(running.emulator.admin_token(), "tok3n");
    let answer = running.get("/admin/projects", Some("Bearer tok3n")).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_created_api_key_works_at_once_and_the_key_list_never_shows_a_secret() {
    let running = start_seeded().await;
    let created = running
        .post(
            "/admin/projects/proj-a/api_keys",
            Some(&running.admin()),
            r#"{"label":"ci"}"#,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let new_key = created.body["key"].as_str().expect("key").to_string();
    let new_id = created.body["id"].as_str().expect("id").to_string();
    assert!(new_key.starts_with("sk-"));

    let works = running
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some(&format!("proj-a:{new_key}")),
        )
        .await;
    assert_eq!(works.status, StatusCode::OK);

    let (embed_key, prefix) = running.agent_embed_key("agent-public").await;
    let (workforce_key, _) = running.workforce_embed_key("wf-1").await;
    let listed = running
        .get("/admin/projects/proj-a/keys", Some(&running.admin()))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    for secret in [
        new_key.as_str(),
        KEY_A,
        embed_key.as_str(),
        workforce_key.as_str(),
    ] {
        assert!(
            !listed.text.contains(secret),
            "secret in key list: {}",
            listed.text
        );
    }
    let keys = listed.body["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 4, "seed key, created key, two embed keys");
    for key in keys {
        let hint = key["hint"].as_str().expect("hint");
        assert!(hint.chars().count() <= 4, "{hint}");
        assert!(key["created_at"].is_string());
    }
    let created_entry = keys
        .iter()
        .find(|key| key["id"] == new_id.as_str())
        .expect("listed");
    assert_eq!(created_entry["kind"], "api");
    assert_eq!(created_entry["hint"], &new_key[new_key.len() - 4..]);
    assert!(
        created_entry["last_used_at"].is_string(),
        "it was used once"
    );
    let embed_entry = keys
        .iter()
        .find(|key| key["agent_id"] == "agent-public")
        .expect("agent embed key listed");
    assert_eq!(embed_entry["kind"], "embed");
    assert_eq!(embed_entry["task_prefix"], prefix.as_str());
    assert!(embed_entry.get("revoked_at").is_none());
    assert!(embed_entry.get("workforce_id").is_none());
    let workforce_entry = keys
        .iter()
        .find(|key| key["workforce_id"] == "wf-1")
        .expect("workforce embed key listed");
    assert_eq!(workforce_entry["kind"], "embed");

    let unknown = running
        .post("/admin/projects/ghost/api_keys", Some(&running.admin()), "")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn revocation_by_id_or_by_value_takes_effect_on_the_very_next_request() {
    let running = start_seeded().await;
    let path = "/bcbe5a/latest/agents/agent-public/get";
    let (embed_key, _) = running.agent_embed_key("agent-public").await;
    let embed_auth = format!("proj-a:{embed_key}");
    assert_eq!(
        running.get(path, Some(&embed_auth)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        running
            .get(path, Some("proj-a:sk-test-a-0001"))
            .await
            .status,
        StatusCode::OK
    );

    // By value: for a leaked key whose id is unknown.
    let revoked = running
        .post(
            "/admin/keys/revoke",
            Some(&running.admin()),
            &format!(r#"{{"key":"{embed_key}"}}"#),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert!(!revoked.text.contains(&embed_key));
    let after = running.get(path, Some(&embed_auth)).await;
    assert_eq!(after.status, StatusCode::BAD_REQUEST);
    assert!(after.message().starts_with("User key"));
    assert!(after.message().contains("has no live key"));

    // By id, found in the key list.
    let keys = running
        .get("/admin/projects/proj-a/keys", Some(&running.admin()))
        .await;
    let seed_key_id = keys.body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["kind"] == "api")
        .and_then(|key| key["id"].as_str())
        .expect("seed api key id")
        .to_string();
    let first = running
        .post(
            &format!("/admin/keys/{seed_key_id}/revoke"),
            Some(&running.admin()),
            "",
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["id"], seed_key_id.as_str());
    let revoked_at = first.body["revoked_at"]
        .as_str()
        .expect("revoked_at")
        .to_string();
    assert_eq!(
        running
            .get(path, Some("proj-a:sk-test-a-0001"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let again = running
        .post(
            &format!("/admin/keys/{seed_key_id}/revoke"),
            Some(&running.admin()),
            "",
        )
        .await;
    assert_eq!(
        again.body["revoked_at"],
        revoked_at.as_str(),
        "first time is kept"
    );

    let listed = running
        .get("/admin/projects/proj-a/keys", Some(&running.admin()))
        .await;
    let entry = listed.body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["id"] == seed_key_id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(entry["revoked_at"], revoked_at.as_str());

    for (path, body) in [
        ("/admin/keys/key_nope/revoke", ""),
        ("/admin/keys/revoke", r#"{"key":"sk-never-issued"}"#),
    ] {
        let answer = running.post(path, Some(&running.admin()), body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!answer.text.contains("sk-never-issued"));
    }
}

#[tokio::test]
async fn the_request_log_is_newest_first_without_query_strings_or_secrets() {
    let running = start_seeded().await;
    let (embed_key, _) = running.agent_embed_key("agent-public").await;
    running
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some("proj-a:sk-test-a-0001"),
        )
        .await;
    running
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some(&format!("proj-a:{embed_key}")),
        )
        .await;
    running
        .get("/healthz?authorization=Bearer+sk-in-query-string", None)
        .await;
    running.get("/no/such/route", None).await;

    let log = running
        .get("/admin/requests?limit=4", Some(&running.admin()))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    for secret in [
        embed_key.as_str(),
        KEY_A,
        "sk-in-query-string",
        running.emulator.admin_token(),
    ] {
        assert!(
            !log.text.contains(secret),
            "secret in request log: {}",
            log.text
        );
    }
    let entries = log.body["requests"].as_array().expect("requests");
    let summary: Vec<(String, u64, Option<&str>)> = entries
        .iter()
        .map(|entry: &Value| {
            (
                entry["path"].as_str().expect("path").to_string(),
                entry["status"].as_u64().expect("status"),
                entry["key_kind"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("/no/such/route".to_string(), 404, None),
            ("/healthz".to_string(), 200, None),
            (
                "/bcbe5a/latest/agents/agent-public/get".to_string(),
                200,
                Some("embed")
            ),
            (
                "/bcbe5a/latest/agents/agent-public/get".to_string(),
                200,
                Some("api")
            ),
        ]
    );
    assert!(entries[2]["key_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("key_")));
    assert!(entries[0].get("key_id").is_none());
    assert_eq!(entries[0]["method"], "GET");
    assert!(entries[0]["at"]
        .as_str()
        .is_some_and(|at| at.ends_with('Z')));

    let default_limit = running.get("/admin/requests", Some(&running.admin())).await;
    assert_eq!(
        default_limit.body["requests"]
            .as_array()
            .expect("requests")
            .len(),
        6
    );
    let too_many = running
        .get("/admin/requests?limit=10001", Some(&running.admin()))
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    let not_a_number = running
        .get("/admin/requests?limit=lots", Some(&running.admin()))
        .await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
    assert!(
        not_a_number.message().contains("limit"),
        "{}",
        not_a_number.message()
    );
}
