//! Every sentence of the platform's key model (shared/seed), checked against a real emulator
//! over HTTP on 127.0.0.1 with the real SDK.
#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use relevance::{AgentListOptions, EmbedKeyOptions, EmbedTarget, Error, Key, KeyScope, Region};
use relevance_testkit::sdk::{API_KEY_A, API_KEY_C};
use relevance_testkit::{secret_of, TestEmulator};

fn agent_key_options(t: &TestEmulator, agent: &str) -> EmbedKeyOptions {
    EmbedKeyOptions::agent(Region::US, "proj-a", agent).base_url(t.base_url.clone())
}

fn workforce_key_options(t: &TestEmulator, workforce: &str) -> EmbedKeyOptions {
    EmbedKeyOptions::workforce(Region::US, "proj-a", workforce).base_url(t.base_url.clone())
}

fn message(error: &Error) -> String {
    error.server_message().unwrap_or_default().to_owned()
}

// "API keys grant full access to a project ... unrestricted access to every resource."
#[tokio::test]
async fn an_api_key_reaches_every_agent_and_workforce_of_its_project() {
    let t = TestEmulator::start().await;
    let client = t.api_key_a();
    assert!(!client.is_embed_key());

    let list = client
        .agents()
        .list(AgentListOptions::default())
        .await
        .unwrap();
    let ids: Vec<_> = list.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["agent-other-public", "agent-private", "agent-public"]);
    assert_eq!(
        list.next_cursor, None,
        "three agents fit on the default page of 20"
    );

    let private = client.agents().get("agent-private").await.unwrap();
    assert!(!private.public);
    assert_eq!(private.project, "proj-a");
    assert_eq!(private.region, Region::US);

    let public = client.agents().get("agent-public").await.unwrap();
    assert_eq!(public.name.as_deref(), Some("Support"));
    assert_eq!(public.description.as_deref(), Some("Answers questions"));
    assert_eq!(public.avatar.as_deref(), Some("🤖"));
    assert!(public.created_at.is_some());

    let workforce = client.workforces().get("wf-2").await.unwrap();
    assert_eq!(workforce.name.as_deref(), Some("Back office"));
}

#[tokio::test]
async fn agent_list_pages() {
    let t = TestEmulator::start().await;
    let client = t.api_key_a();
    let page = |page, page_size| AgentListOptions {
        page: Some(page),
        page_size: Some(page_size),
    };
    let first = client.agents().list(page(1, 2)).await.unwrap();
    let second = client.agents().list(page(2, 2)).await.unwrap();
    let third = client.agents().list(page(3, 2)).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        first.next_cursor.as_deref(),
        Some("2"),
        "a full page has a next"
    );
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, "agent-public");
    assert_eq!(second.next_cursor, None, "a shorter page is the last");
    assert!(third.is_empty());
    assert_eq!(third.next_cursor, None);

    // Every page as one stream: pages of one agent, so three full pages and an empty one.
    let before = t.admin.count("/agents/list").await;
    let all: Vec<String> = client
        .agents()
        .all(page(1, 1))
        .map(|agent| agent.unwrap().into_data().id)
        .collect()
        .await;
    assert_eq!(all, ["agent-other-public", "agent-private", "agent-public"]);
    assert_eq!(t.admin.count("/agents/list").await - before, 4);
}

// "Grant full access to a project" — one project, not the others.
#[tokio::test]
async fn an_api_key_does_not_reach_another_project() {
    let t = TestEmulator::start().await;
    let error = t.api_key_a().agents().get("agent-c").await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

// "Every project is deployed to a specific region. Match the region where your project was created."
#[tokio::test]
async fn a_key_works_only_in_its_projects_region() {
    let t = TestEmulator::start().await;
    for region in [Region::EU, Region::AU] {
        let client = t.client(Key::new(API_KEY_A, region, "proj-a").unwrap());
        let error = client.agents().get("agent-public").await.unwrap_err();
        assert!(
            matches!(error, Error::Unauthorized { .. }),
            "{region}: {error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("bcbe5a"),
            "the error names the project's real region: {text}"
        );
        assert!(!text.contains(API_KEY_A), "no secret in errors: {text}");
    }
}

// The error must tell the user which of region, project or key is wrong.
#[tokio::test]
async fn a_refused_key_says_whether_the_project_or_the_key_is_wrong() {
    let t = TestEmulator::start().await;
    let cases = [
        (
            Key::new(API_KEY_A, Region::US, "no-such-project").unwrap(),
            "no-such-project",
        ),
        (Key::new(API_KEY_C, Region::US, "proj-a").unwrap(), "key"),
        (
            Key::new("sk-not-a-real-key-000000000000", Region::US, "proj-a").unwrap(),
            "key",
        ),
    ];
    for (key, named) in cases {
        let secret = secret_of(&key);
        let error = t
            .client(key)
            .agents()
            .get("agent-public")
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
        // The live platform answers a key it does not know with 400 (PROTOCOL C).
        assert_eq!(error.status(), Some(400));
        let text = error.to_string();
        assert!(text.contains(named), "{text:?} should mention {named}");
        assert!(!text.contains(&secret), "no secret in errors: {text}");
    }
}

// "create a Key instance explicitly and pass it to the Client constructor"
#[tokio::test]
async fn a_key_built_by_hand_and_passed_to_a_client_works() {
    let t = TestEmulator::start().await;
    let key = Key::new(API_KEY_A, Region::US, "proj-a").unwrap();
    assert_eq!(key.region(), Region::US);
    assert_eq!(key.project(), "proj-a");
    assert_eq!(key.scope(), KeyScope::Project);
    assert!(!key.is_embed());
    let client = t.client(key);
    assert_eq!(client.project(), "proj-a");
    assert_eq!(
        client.agents().get("agent-public").await.unwrap().id,
        "agent-public"
    );
}

// "Embed keys are generated at runtime and scoped to a single public agent."
#[tokio::test]
async fn an_embed_key_for_an_agent_is_generated_with_exactly_one_request() {
    let t = TestEmulator::start().await;
    let before = t.admin.requests().await.len();
    let key = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let log = t.admin.requests().await;
    // The admin call that read the log is logged too; only one request came from the SDK.
    let new: Vec<_> = log[..log.len() - before]
        .iter()
        .filter(|r| !r["path"].as_str().unwrap_or("").starts_with("/admin"))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["path"], "/bcbe5a/latest/agents/get_embed_key");
    assert_eq!(new[0]["method"], "POST");

    assert!(key.is_embed());
    assert_eq!(key.scope(), KeyScope::Agent("agent-public".into()));
    assert_eq!(key.region(), Region::US);
    assert_eq!(key.project(), "proj-a");
    assert!(key.task_prefix().is_some_and(|p| p.len() >= 16));

    let client = t.client(key);
    assert!(client.is_embed_key());
    assert_eq!(
        client.agents().get("agent-public").await.unwrap().id,
        "agent-public"
    );
}

// "... or a single workforce."
#[tokio::test]
async fn an_embed_key_for_a_workforce_reads_only_its_workforce() {
    let t = TestEmulator::start().await;
    let key = Key::generate_embed_key(workforce_key_options(&t, "wf-1"))
        .await
        .unwrap();
    assert!(key.is_embed());
    assert_eq!(key.scope(), KeyScope::Workforce("wf-1".into()));
    assert_eq!(key.workforce_id(), Some("wf-1"));
    let client = t.client(key);
    assert_eq!(
        client
            .workforces()
            .get("wf-1")
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Front desk")
    );

    let other = client.workforces().get("wf-2").await.unwrap_err();
    let unknown = client.workforces().get("wf-none").await.unwrap_err();
    assert!(matches!(other, Error::NotFound { .. }), "{other:?}");
    assert_eq!(
        message(&other).replace("wf-2", "ID"),
        message(&unknown).replace("wf-none", "ID")
    );

    let agent = client.agents().get("agent-public").await.unwrap_err();
    assert!(matches!(agent, Error::NotFound { .. }), "{agent:?}");
    let list = client
        .agents()
        .list(AgentListOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(list, Error::Forbidden { .. }), "{list:?}");
}

// "They can't access resources outside their scope."
#[tokio::test]
async fn an_embed_key_is_refused_outside_its_scope() {
    let t = TestEmulator::start().await;
    let key = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let client = t.client(key);

    let list = client
        .agents()
        .list(AgentListOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(list, Error::Forbidden { .. }), "{list:?}");
    assert_eq!(list.status(), Some(403));

    // Another agent, a private agent and an unknown agent look exactly the same: no probing.
    let unknown = client.agents().get("agent-none").await.unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
    for other in ["agent-other-public", "agent-private", "agent-c"] {
        let error = client.agents().get(other).await.unwrap_err();
        assert!(
            matches!(error, Error::NotFound { .. }),
            "{other}: {error:?}"
        );
        assert_eq!(
            message(&error).replace(other, "ID"),
            message(&unknown).replace("agent-none", "ID"),
            "{other} must be indistinguishable from an unknown agent"
        );
    }
    let workforce = client.workforces().get("wf-1").await.unwrap_err();
    assert!(matches!(workforce, Error::NotFound { .. }), "{workforce:?}");
}

// "Scoped to a single public agent": private agents get no embed key.
#[tokio::test]
async fn an_embed_key_for_a_private_agent_is_refused_like_an_unknown_one() {
    let t = TestEmulator::start().await;
    let private = Key::generate_embed_key(agent_key_options(&t, "agent-private"))
        .await
        .unwrap_err();
    let unknown = Key::generate_embed_key(agent_key_options(&t, "agent-none"))
        .await
        .unwrap_err();
    let other_project = Key::generate_embed_key(agent_key_options(&t, "agent-c"))
        .await
        .unwrap_err();
    for (error, id) in [
        (&private, "agent-private"),
        (&unknown, "agent-none"),
        (&other_project, "agent-c"),
    ] {
        assert!(matches!(error, Error::NotFound { .. }), "{id}: {error:?}");
        assert_eq!(error.status(), Some(404));
        assert_eq!(
            message(error).replace(id, "ID"),
            message(&unknown).replace("agent-none", "ID")
        );
    }
    let wrong_region = Key::generate_embed_key(
        EmbedKeyOptions::agent(Region::EU, "proj-a", "agent-public").base_url(t.base_url.clone()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(wrong_region, Error::NotFound { .. }),
        "{wrong_region:?}"
    );
}

#[tokio::test]
async fn every_generated_embed_key_is_new_with_a_new_prefix() {
    let t = TestEmulator::start().await;
    let a = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let b = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    assert_ne!(secret_of(&a).as_str(), secret_of(&b).as_str());
    assert_ne!(a.task_prefix(), b.task_prefix());
    // Both work side by side.
    for key in [a, b] {
        t.client(key).agents().get("agent-public").await.unwrap();
    }
}

// "Persist the key with toJSON and restore it with the Key constructor" — no network request.
#[tokio::test]
async fn a_restored_key_works_without_a_get_embed_key_request() {
    let t = TestEmulator::start().await;
    let key = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let stored = key.to_json();
    let generated = t.admin.count("/get_embed_key").await;
    assert_eq!(generated, 1);

    let restored = Key::from_json(&stored).unwrap();
    assert_eq!(restored.to_json(), stored);
    assert_eq!(restored.scope(), key.scope());
    assert_eq!(restored.task_prefix(), key.task_prefix());
    t.client(restored)
        .agents()
        .get("agent-public")
        .await
        .unwrap();
    assert_eq!(
        t.admin.count("/get_embed_key").await,
        generated,
        "restoring made a request"
    );
}

// "toJSON returns a plain object containing every field needed to reconstruct the key —
// region, project, scoped agent or workforce ID, and the task prefix."
#[tokio::test]
async fn to_json_holds_every_field_needed_to_reconstruct_the_key() {
    let t = TestEmulator::start().await;
    for options in [
        agent_key_options(&t, "agent-public"),
        workforce_key_options(&t, "wf-1"),
    ] {
        let key = Key::generate_embed_key(options).await.unwrap();
        let value: serde_json::Value = serde_json::from_str(&key.to_json()).unwrap();
        assert_eq!(value["region"], "bcbe5a");
        assert_eq!(value["project"], "proj-a");
        assert_eq!(value["key"], secret_of(&key).as_str());
        assert_eq!(value["taskPrefix"], key.task_prefix().unwrap());
        let target = key.agent_id().or(key.workforce_id()).unwrap();
        assert!(
            value["agentId"] == target || value["workforceId"] == target,
            "{value}"
        );
    }
}

// "The old key keeps working until it's explicitly revoked from the dashboard" — across restarts.
#[tokio::test]
async fn an_embed_key_keeps_working_across_emulator_restarts() {
    let t = TestEmulator::start().await;
    let key = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let stored = key.to_json();
    let dir = t.stop().await;

    let t = TestEmulator::start_in(dir).await;
    let restored = Key::from_json(&stored).unwrap();
    t.client(restored)
        .agents()
        .get("agent-public")
        .await
        .unwrap();
    // The seeded API key survives the restart (and the re-seed) too.
    t.api_key_a().agents().get("agent-private").await.unwrap();
}

// "If an embed key is compromised, generate a new one. The old key keeps working until it's
// explicitly revoked from the dashboard."
#[tokio::test]
async fn a_compromised_key_works_until_revoked_then_fails_on_the_next_request() {
    let t = TestEmulator::start().await;
    let old = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let new = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let old_client = t.client(old.clone());
    let new_client = t.client(new);

    // Generating a new key does not disable the old one.
    old_client.agents().get("agent-public").await.unwrap();

    // Revoke by id, as the dashboard does: find it by its task prefix.
    let keys = t.admin.keys("proj-a").await;
    let entry = keys
        .iter()
        .find(|k| k["task_prefix"].as_str() == old.task_prefix())
        .expect("the old key is listed");
    assert_eq!(entry["kind"], "embed");
    assert!(entry["hint"].as_str().unwrap().len() <= 4);
    assert!(!keys
        .iter()
        .any(|k| k.to_string().contains(secret_of(&old).as_str())));
    t.admin.revoke_id(entry["id"].as_str().unwrap()).await;

    let error = old_client.agents().get("agent-public").await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(!error.to_string().contains(secret_of(&old).as_str()));
    // The new key is untouched.
    new_client.agents().get("agent-public").await.unwrap();
}

#[tokio::test]
async fn revoking_a_key_by_its_value_and_regenerating() {
    let t = TestEmulator::start().await;
    let leaked = Key::generate_embed_key(workforce_key_options(&t, "wf-1"))
        .await
        .unwrap();
    let client = t.client(leaked.clone());
    client.workforces().get("wf-1").await.unwrap();
    t.admin.revoke_secret(secret_of(&leaked).as_str()).await;
    let error = client.workforces().get("wf-1").await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");

    let fresh = Key::generate_embed_key(workforce_key_options(&t, "wf-1"))
        .await
        .unwrap();
    assert_ne!(fresh.task_prefix(), leaked.task_prefix());
    t.client(fresh).workforces().get("wf-1").await.unwrap();

    // A revoked API key too.
    let api = t.api_key_a();
    t.admin.revoke_secret(API_KEY_A).await;
    let error = api
        .agents()
        .list(AgentListOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}

#[tokio::test]
async fn an_embed_key_used_in_another_region_is_refused() {
    let t = TestEmulator::start().await;
    let key = Key::generate_embed_key(agent_key_options(&t, "agent-public"))
        .await
        .unwrap();
    let moved = Key::embed(
        secret_of(&key).as_str(),
        Region::AU,
        "proj-a",
        EmbedTarget::Agent("agent-public".into()),
        key.task_prefix().unwrap(),
    )
    .unwrap();
    let error = t
        .client(moved)
        .agents()
        .get("agent-public")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}
