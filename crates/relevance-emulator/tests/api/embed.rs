//! Embed keys: who may get one, what each may reach, and the rate limit.

use reqwest::StatusCode;

use crate::support::*;

fn assert_prefix_shape(prefix: &str) {
    // 22 base62 characters are 131 bits.
    assert!(prefix.len() >= 22, "prefix too short: {prefix}");
    assert!(
        !prefix.contains('_'),
        "task ids are {{prefix}}_-_{{uuid}}: {prefix}"
    );
    assert!(
        prefix.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{prefix}"
    );
}

#[tokio::test]
async fn every_call_gives_a_new_key_and_a_new_unguessable_prefix() {
    let running = start_seeded().await;
    let (key_1, prefix_1) = running.agent_embed_key("agent-public").await;
    let (key_2, prefix_2) = running.agent_embed_key("agent-public").await;
    assert_ne!(key_1, key_2);
    assert_ne!(prefix_1, prefix_2);
    assert_prefix_shape(&prefix_1);
    assert_prefix_shape(&prefix_2);
    let (workforce_key, workforce_prefix) = running.workforce_embed_key("wf-1").await;
    assert_ne!(workforce_key, key_1);
    assert_prefix_shape(&workforce_prefix);
}

#[tokio::test]
async fn private_unknown_other_project_and_wrong_region_agents_get_the_same_404() {
    let running = start_seeded().await;
    let ask = |agent: &'static str, project: &'static str, region: &'static str| {
        let running = &running;
        async move {
            let answer = running
                .post(
                    &format!("/{region}/latest/agents/get_embed_key"),
                    // An Authorization header is ignored here.
                    Some("proj-a:sk-test-a-0001"),
                    &format!(r#"{{"agent_id":"{agent}","project":"{project}"}}"#),
                )
                .await;
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{agent}/{project}/{region}"
            );
            // Ids and region are the caller's own input; everything else must be identical.
            answer
                .text
                .replace(agent, "<agent>")
                .replace(project, "<project>")
                .replace(region, "<region>")
                .replace("(US)", "(<name>)")
                .replace("(EU)", "(<name>)")
        }
    };
    let private = ask("agent-private", "proj-a", US).await;
    let unknown = ask("ghost", "proj-a", US).await;
    let other_project = ask("agent-public", "proj-b", US).await;
    let unknown_project = ask("agent-public", "nowhere", US).await;
    let wrong_region = ask("agent-public", "proj-a", EU).await;
    assert_eq!(private, unknown);
    assert_eq!(private, other_project);
    assert_eq!(private, unknown_project);
    assert_eq!(private, wrong_region);
    assert!(
        private.contains("no public agent '<agent>' in project '<project>'"),
        "{private}"
    );

    let unknown_workforce = running
        .post(
            "/bcbe5a/latest/workforce/get_embed_key",
            None,
            r#"{"workforce_id":"ghost","project":"proj-a"}"#,
        )
        .await;
    assert_eq!(unknown_workforce.status, StatusCode::NOT_FOUND);
}

/// What each embed key may reach is the principal matrix (`principals.rs`); here, that
/// out of scope looks exactly like absent, and that an embed key works in the `Bearer` form.
#[tokio::test]
async fn an_embed_keys_out_of_scope_reads_look_exactly_like_absent_ones() {
    let running = start_seeded().await;
    let (key, _) = running.agent_embed_key("agent-public").await;
    let auth = format!("proj-a:{key}");
    let other = running
        .get("/bcbe5a/latest/agents/agent-other/get", Some(&auth))
        .await;
    let unknown = running
        .get("/bcbe5a/latest/agents/ghost/get", Some(&auth))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.text.replace("agent-other", "<id>"),
        unknown.text.replace("ghost", "<id>"),
        "out of scope must look exactly like absent"
    );

    let (key, _) = running.workforce_embed_key("wf-1").await;
    let auth = format!("Bearer proj-a:{key}");
    let own = running
        .get("/bcbe5a/latest/workforce/items/wf-1", Some(&auth))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["workforce_metadata"]["name"], "Front desk");
    let other = running
        .get("/bcbe5a/latest/workforce/items/wf-2", Some(&auth))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn embed_key_generation_is_rate_limited_per_address() {
    let running = start_seeded_with(|config| config.embed_key_rate_limit_per_minute = 3).await;
    running.agent_embed_key("agent-public").await;
    running.workforce_embed_key("wf-1").await;
    running.agent_embed_key("agent-other").await;
    let fourth = running
        .post(
            "/bcbe5a/latest/agents/get_embed_key",
            None,
            r#"{"agent_id":"agent-public","project":"proj-a"}"#,
        )
        .await;
    assert_eq!(
        fourth.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        fourth.text
    );
    let retry_after: u64 = fourth
        .headers
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert!(fourth.message().contains("too many"));
    // Authenticated routes are not limited.
    let read = running
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some("proj-a:sk-test-a-0001"),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
}
