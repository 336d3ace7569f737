//! The demo project, created when the emulator starts without a seed file.
//!
//! Its definitions are upserted like a seed (a reused data directory keeps
//! its keys and tasks); a new API key is issued on every start, because the
//! value of an earlier one cannot be shown again.

use rusqlite::Connection;

use crate::auth::issue_api_key;
use crate::engine::script::{Action, BehaviorConfig, Step};
use crate::region::Region;
use crate::seed::DEFAULT_MODEL;
use crate::store::catalog::{self, AgentSpec, ProjectSpec, WorkforceSpec, DEFAULT_EXECUTION_LIMIT};

const PROJECT: &str = "demo-project";
const PUBLIC_AGENT: &str = "demo-agent";
const PRIVATE_AGENT: &str = "private-agent";
const RESEARCHER_AGENT: &str = "demo-researcher";
const TRIAGE_AGENT: &str = "demo-triage";
const WORKFORCE: &str = "demo-workforce";
const REGION: Region = Region::Us;

/// The demo project and its credentials for this run.
#[derive(Clone)]
pub struct DemoProject {
    /// The project id, `demo-project`.
    pub project: String,
    /// The region code, `bcbe5a` (US).
    pub region_code: &'static str,
    /// An API key issued at this start-up (label "generated at start-up").
    pub api_key: String,
    /// A public agent (`demo-agent`) that embed keys can be made for.
    pub public_agent_id: String,
    /// A private agent (`private-agent`): embed-key requests for it get 404.
    pub private_agent_id: String,
    /// A public scripted agent (`demo-researcher`): thinks, runs a tool, types a reply.
    pub researcher_agent_id: String,
    /// A public scripted agent (`demo-triage`): greets, then hands over to the researcher
    /// inside the workforce.
    pub triage_agent_id: String,
    /// A workforce (`demo-workforce`): the triage agent answers first and hands the
    /// question over to the researcher.
    pub workforce_id: String,
}

impl std::fmt::Debug for DemoProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoProject")
            .field("project", &self.project)
            .field("region_code", &self.region_code)
            .field("api_key", &"<redacted>")
            .field("public_agent_id", &self.public_agent_id)
            .field("private_agent_id", &self.private_agent_id)
            .field("researcher_agent_id", &self.researcher_agent_id)
            .field("triage_agent_id", &self.triage_agent_id)
            .field("workforce_id", &self.workforce_id)
            .finish()
    }
}

/// The demo's definitions.
pub(crate) fn spec() -> ProjectSpec {
    ProjectSpec {
        id: PROJECT.to_string(),
        region: REGION,
        agents: vec![
            AgentSpec {
                id: PUBLIC_AGENT.to_string(),
                name: Some("Demo assistant".to_string()),
                description: Some(
                    "A public demo agent that echoes every message back.".to_string(),
                ),
                emoji: Some("🤖".to_string()),
                public: true,
                model: DEFAULT_MODEL.to_string(),
                behavior: "echo".to_string(),
                behavior_config: BehaviorConfig::default().to_json(),
                use_streaming: true,
            },
            AgentSpec {
                id: PRIVATE_AGENT.to_string(),
                name: Some("Private assistant".to_string()),
                description: Some("A private demo agent: only API keys can reach it.".to_string()),
                emoji: None,
                public: false,
                model: DEFAULT_MODEL.to_string(),
                behavior: "echo".to_string(),
                behavior_config: BehaviorConfig::default().to_json(),
                use_streaming: false,
            },
            AgentSpec {
                id: RESEARCHER_AGENT.to_string(),
                name: Some("Demo researcher".to_string()),
                description: Some(
                    "A public scripted agent: thinks, searches, then types an answer.".to_string(),
                ),
                emoji: Some("🔎".to_string()),
                public: true,
                model: DEFAULT_MODEL.to_string(),
                behavior: "script".to_string(),
                behavior_config: researcher_script().to_json(),
                use_streaming: true,
            },
            AgentSpec {
                id: TRIAGE_AGENT.to_string(),
                name: Some("Demo triage".to_string()),
                description: Some(
                    "A public scripted agent: greets, then hands the question to the researcher \
                     (in the demo workforce)."
                        .to_string(),
                ),
                emoji: Some("🧭".to_string()),
                public: true,
                model: DEFAULT_MODEL.to_string(),
                behavior: "script".to_string(),
                behavior_config: triage_script().to_json(),
                use_streaming: true,
            },
        ],
        workforces: vec![WorkforceSpec {
            id: WORKFORCE.to_string(),
            name: "Demo workforce".to_string(),
            agents: vec![TRIAGE_AGENT.to_string(), RESEARCHER_AGENT.to_string()],
            execution_limit: DEFAULT_EXECUTION_LIMIT,
        }],
    }
}

/// The researcher's script: think, a search tool, then a typed answer.
fn researcher_script() -> BehaviorConfig {
    let step = |delay_ms, action| Step { delay_ms, action };
    BehaviorConfig {
        script: vec![
            step(
                300,
                Action::Think {
                    text: "The user asked: {message}. I should search before answering."
                        .to_string(),
                },
            ),
            step(
                300,
                Action::Tool {
                    name: "web_search".to_string(),
                    input: serde_json::json!({"query": "{message}"}),
                    output: serde_json::json!({"results": [
                        {"title": "Emulated result", "url": "https://example.com/emulated"}
                    ]}),
                    error: None,
                },
            ),
            step(
                200,
                Action::Type {
                    text: "I looked into \"{message}\" and found one emulated result: \
                           https://example.com/emulated"
                        .to_string(),
                },
            ),
        ],
        ..BehaviorConfig::default()
    }
}

/// The triage agent's script: a short reply, then a handover to the researcher.
fn triage_script() -> BehaviorConfig {
    let step = |delay_ms, action| Step { delay_ms, action };
    BehaviorConfig {
        script: vec![
            step(
                200,
                Action::Reply {
                    text: "Thanks! I'll ask our researcher to look into that.".to_string(),
                },
            ),
            step(
                100,
                Action::Handover {
                    agent_id: RESEARCHER_AGENT.to_string(),
                    message: "{message}".to_string(),
                },
            ),
        ],
        end_state: "completed".to_string(),
        ..BehaviorConfig::default()
    }
}

/// Upserts the demo project and issues this run's API key.
pub(crate) fn install(connection: &mut Connection, now: &str) -> rusqlite::Result<DemoProject> {
    let transaction = connection.transaction()?;
    catalog::upsert_project(&transaction, &spec(), now)?;
    let issued = issue_api_key(
        &transaction,
        PROJECT,
        Some("generated at start-up".to_string()),
        now,
    )?;
    transaction.commit()?;
    Ok(DemoProject {
        project: PROJECT.to_string(),
        region_code: REGION.code(),
        api_key: issued.secret,
        public_agent_id: PUBLIC_AGENT.to_string(),
        private_agent_id: PRIVATE_AGENT.to_string(),
        researcher_agent_id: RESEARCHER_AGENT.to_string(),
        triage_agent_id: TRIAGE_AGENT.to_string(),
        workforce_id: WORKFORCE.to_string(),
    })
}
