//! `relevance demo`: every sentence of the platform's key model, run for real against an
//! embedded emulator, each step checked. It exits non-zero if any step does not behave as the
//! platform documents, so it doubles as a smoke test on a fresh machine.

use anyhow::{anyhow, bail, Context, Result};
use relevance::{
    create_client, AgentListOptions, ApiKeyOptions, Client, EmbedKeyOptions, Error, Key, Region,
};
use relevance_emulator::{Config, DemoProject, Emulator};
use serde_json::json;

use crate::admin::AdminApi;
use crate::commands::runtime;
use crate::output;

pub fn run(json: bool) -> Result<()> {
    // Bind before any thread exists, so the SDK's own `RELEVANCE_BASE_URL` lookup can be pointed
    // at the emulator while the process is still single-threaded.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1")?;
    let base_url = format!("http://{}", listener.local_addr()?);
    std::env::set_var("RELEVANCE_BASE_URL", &base_url);
    listener.set_nonblocking(true)?;

    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let emulator = Emulator::start(Config::default(), listener).await?;
        let demo = emulator
            .demo()
            .cloned()
            .ok_or_else(|| anyhow!("the emulator started without its demo project"))?;
        let admin = AdminApi::new(emulator.base_url(), emulator.admin_token());
        let mut walk = Walk { json, step: 0 };
        let outcome = walk.all(&demo, &admin).await;
        emulator.shutdown().await?;
        outcome?;
        if !json {
            println!("\nEvery step behaved as documented.");
        }
        Ok(())
    })
}

struct Walk {
    json: bool,
    step: u32,
}

impl Walk {
    fn say(&mut self, title: &str, details: &[String]) {
        self.step += 1;
        if self.json {
            output::print_json(
                &json!({"step": self.step, "title": title, "ok": true, "details": details}),
            );
        } else {
            println!("\n{}. {title}", self.step);
            for line in details {
                println!("   ✓ {line}");
            }
        }
    }

    async fn all(&mut self, demo: &DemoProject, admin: &AdminApi) -> Result<()> {
        let region: Region = demo.region_code.parse()?;
        self.api_keys(demo, region).await?;
        let (agent_key, agent_client) = self.embed_keys(demo, region).await?;
        self.persistence(demo, admin, &agent_key).await?;
        self.scopes(demo, region, &agent_client).await?;
        self.revocation(demo, region, admin, &agent_key, &agent_client)
            .await
    }

    /// Steps 1 and 2: the API key through `create_client`, then by hand.
    async fn api_keys(&mut self, demo: &DemoProject, region: Region) -> Result<()> {
        let project = demo.project.as_str();
        // 1. API key, the fastest way: create_client registers the default client.
        let client = create_client(ApiKeyOptions {
            api_key: demo.api_key.clone(),
            region,
            project: project.to_owned(),
        })?;
        let agents = client.agents().list(AgentListOptions::default()).await?;
        let names: Vec<_> = agents.iter().map(|a| a.id.as_str()).collect();
        self.say(
            "API key: create_client({api_key, region, project})",
            &[
                format!("default client for project {project} in region {region}"),
                format!("agents/list with the API key: [{}]", names.join(", ")),
                format!("is_embed_key() = {}", client.is_embed_key()),
            ],
        );

        // 2. The same key built by hand and passed to a Client.
        let key = Key::new(demo.api_key.clone(), region, project)?;
        let by_hand = Client::new(key.clone())?;
        let private = by_hand.agents().get(&demo.private_agent_id).await?;
        self.say(
            "Key::new(secret, region, project) passed to Client::new",
            &[
                format!("{key}"),
                format!(
                    "API keys reach every agent, even the private one: {} ({})",
                    private.id,
                    private.name.as_deref().unwrap_or("unnamed")
                ),
            ],
        );

        Ok(())
    }

    /// Steps 3 and 4: embed keys for the public agent and for the workforce; answers the
    /// agent's key and a client for it.
    async fn embed_keys(&mut self, demo: &DemoProject, region: Region) -> Result<(Key, Client)> {
        let project = demo.project.as_str();
        // 3 and 4. Embed keys for the public agent and for the workforce.
        let agent_key = Key::generate_embed_key(EmbedKeyOptions::agent(
            region,
            project,
            &demo.public_agent_id,
        ))
        .await?;
        let agent_client = Client::new(agent_key.clone())?;
        let agent = agent_client.agents().get(&demo.public_agent_id).await?;
        self.say(
            "Embed key for a public agent (one unauthenticated request)",
            &[
                format!("{agent_key}"),
                format!("task prefix {}", agent_key.task_prefix().unwrap_or("?")),
                format!(
                    "reads its own agent: {} {}",
                    agent.avatar.as_deref().unwrap_or(""),
                    agent.name.as_deref().unwrap_or(&agent.id)
                ),
            ],
        );
        let workforce_key = Key::generate_embed_key(EmbedKeyOptions::workforce(
            region,
            project,
            &demo.workforce_id,
        ))
        .await?;
        let workforce = Client::new(workforce_key.clone())?
            .workforces()
            .get(&demo.workforce_id)
            .await?;
        self.say(
            "Embed key for a workforce",
            &[
                format!("{workforce_key}"),
                format!(
                    "reads its own workforce: {}",
                    workforce.name.as_deref().unwrap_or(&workforce.id)
                ),
            ],
        );

        Ok((agent_key, agent_client))
    }

    /// Step 5: persist with `to_json`, restore with `from_json`, with no network request.
    async fn persistence(
        &mut self,
        demo: &DemoProject,
        admin: &AdminApi,
        agent_key: &Key,
    ) -> Result<()> {
        // 5. Persist with to_json, restore with from_json: no network request.
        let file =
            std::env::temp_dir().join(format!("relevance-demo-key-{}.json", std::process::id()));
        crate::credentials::write_key_file(&file, agent_key)?;
        let before = admin.count_requests("/get_embed_key").await?;
        let restored = crate::credentials::read_key_file(&file)?;
        let _ = std::fs::remove_file(&file);
        let after_restore = admin.count_requests("/get_embed_key").await?;
        Client::new(restored.clone())?
            .agents()
            .get(&demo.public_agent_id)
            .await?;
        if after_restore != before {
            bail!(
                "restoring a persisted key made {} get_embed_key request(s)",
                after_restore - before
            );
        }
        self.say(
            "Persist with to_json, restore with Key::from_json",
            &[
                format!("saved: {}", redact_json(agent_key)),
                "restored from the file: 0 get_embed_key requests (checked in the emulator's request log)".to_owned(),
                "the restored key works".to_owned(),
            ],
        );

        Ok(())
    }

    /// Steps 6 and 7: an embed key outside its scope, and a private agent.
    async fn scopes(
        &mut self,
        demo: &DemoProject,
        region: Region,
        agent_client: &Client,
    ) -> Result<()> {
        let project = demo.project.as_str();
        // 6. An embed key cannot reach outside its scope.
        let listing = agent_client
            .agents()
            .list(AgentListOptions::default())
            .await;
        let other = agent_client.agents().get(&demo.private_agent_id).await;
        self.say(
            "An embed key is refused outside its scope",
            &[
                expect_refusal(
                    "agents/list",
                    listing,
                    |e| matches!(e, Error::Forbidden { .. }),
                    "403",
                )?,
                expect_refusal(
                    "another agent",
                    other,
                    |e| matches!(e, Error::NotFound { .. }),
                    "404",
                )?,
            ],
        );

        // 7. Private agents get no embed keys.
        let private_key = Key::generate_embed_key(EmbedKeyOptions::agent(
            region,
            project,
            &demo.private_agent_id,
        ))
        .await;
        self.say(
            "A private agent gets no embed key",
            &[expect_refusal(
                "get_embed_key for a private agent",
                private_key,
                |e| matches!(e, Error::NotFound { .. }),
                "404",
            )?],
        );

        Ok(())
    }

    /// Step 8: revoked from the dashboard (admin API), the next request fails; a new key works.
    async fn revocation(
        &mut self,
        demo: &DemoProject,
        region: Region,
        admin: &AdminApi,
        agent_key: &Key,
        agent_client: &Client,
    ) -> Result<()> {
        let project = demo.project.as_str();
        admin.revoke_secret(&secret_of(agent_key)).await?;
        let after_revoke = agent_client.agents().get(&demo.public_agent_id).await;
        let revoked = expect_refusal(
            "the revoked key",
            after_revoke,
            |e| matches!(e, Error::Unauthorized { status: 400, .. }),
            "400 (the platform's \"User key not found\")",
        )?;
        let fresh = Key::generate_embed_key(EmbedKeyOptions::agent(
            region,
            project,
            &demo.public_agent_id,
        ))
        .await?;
        Client::new(fresh.clone())?
            .agents()
            .get(&demo.public_agent_id)
            .await?;
        self.say(
            "Revoking a leaked embed key",
            &[
                "revoked through POST /admin/keys/revoke".to_owned(),
                revoked,
                format!("a regenerated key works: {fresh}"),
            ],
        );
        Ok(())
    }
}

/// Checks that an operation failed the documented way and describes the refusal.
fn expect_refusal<T>(
    what: &str,
    outcome: relevance::Result<T>,
    expected: impl Fn(&Error) -> bool,
    status: &str,
) -> Result<String> {
    match outcome {
        Err(error) if expected(&error) => Ok(format!("{what}: refused with {status} ({error})")),
        Err(error) => bail!("{what}: expected a {status} refusal, got: {error}"),
        Ok(_) => bail!("{what}: expected a {status} refusal, but it succeeded"),
    }
}

/// The persisted JSON exactly as stored, with the secret's value replaced.
fn redact_json(key: &Key) -> String {
    let secret = serde_json::to_string(&secret_of(key)).unwrap_or_default();
    key.to_json().replace(&secret, "\"<secret>\"")
}

/// A key's secret value, from its persisted form (the one place the SDK hands it out):
/// the admin API revokes a key by value.
fn secret_of(key: &Key) -> String {
    let json: serde_json::Value = serde_json::from_str(&key.to_json()).unwrap_or_default();
    json["key"].as_str().unwrap_or_default().to_string()
}
