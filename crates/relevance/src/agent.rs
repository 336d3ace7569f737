//! Agents: reading one agent and listing the project's agents.
//!
//! Answers are decoded leniently — unknown fields are ignored and a missing or
//! ill-typed optional field becomes `None` — because the platform adds fields
//! over time; only the agent's id is required.

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::region::Region;

/// The agents of the client's project, borrowed from a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Agents<'c> {
    client: &'c Client,
}

/// Which page of agents to list.
#[derive(Clone, Debug, Default)]
pub struct AgentListOptions {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Agents per page (default 20).
    pub page_size: Option<u32>,
}

/// One page of agents.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentList {
    /// The agents on this page.
    pub agents: Vec<Agent>,
    /// The page that was asked for.
    pub page: u32,
    /// The page size that was asked for.
    pub page_size: u32,
}

/// An agent's configuration, as far as the SDK reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    /// The agent id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The avatar emoji.
    pub avatar: Option<String>,
    /// The project it belongs to (the client's when the answer omits it).
    pub project: String,
    /// The client's region (agents do not carry one).
    pub region: Region,
    /// Whether embed keys can be made for it.
    pub public: bool,
    /// The model it runs on.
    pub model: Option<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

const DEFAULT_PAGE: u32 = 1;
const DEFAULT_PAGE_SIZE: u32 = 20;

impl<'c> Agents<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Agents { client }
    }

    /// One agent by id (`GET agents/{id}/get`). An embed key may read only
    /// its own agent; any other id is `NotFound`.
    pub async fn get(&self, agent_id: &str) -> Result<Agent> {
        #[derive(Deserialize)]
        struct Answer {
            agent: AgentConfig,
        }
        let path = format!("agents/{agent_id}/get");
        let answer: Answer = self
            .client
            .send(Method::GET, &path, None, "agents/get answer")
            .await?;
        Ok(answer.agent.into_agent(self.client))
    }

    /// One page of the project's agents (`POST agents/list`). The page and
    /// page size are always sent, defaulting to 1 and 20. Embed keys may not
    /// list agents (`Forbidden`).
    pub async fn list(&self, options: AgentListOptions) -> Result<AgentList> {
        #[derive(Deserialize)]
        struct Answer {
            results: Vec<AgentConfig>,
        }
        let page = options.page.unwrap_or(DEFAULT_PAGE);
        let page_size = options.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let body = serde_json::json!({"page_size": page_size, "page": page});
        let answer: Answer = self
            .client
            .send(
                Method::POST,
                "agents/list",
                Some(&body),
                "agents/list answer",
            )
            .await?;
        Ok(AgentList {
            agents: answer
                .results
                .into_iter()
                .map(|config| config.into_agent(self.client))
                .collect(),
            page,
            page_size,
        })
    }
}

/// The wire shape (PROTOCOL A5 `AgentConfig`); everything but the id is
/// taken as loosely typed.
#[derive(Deserialize)]
struct AgentConfig {
    agent_id: String,
    #[serde(default)]
    name: Value,
    #[serde(default)]
    description: Value,
    #[serde(default)]
    emoji: Value,
    #[serde(default)]
    project: Value,
    #[serde(default)]
    public: Value,
    #[serde(default)]
    model: Value,
    #[serde(default)]
    insert_date_: Value,
    #[serde(default)]
    update_date_: Value,
}

impl AgentConfig {
    fn into_agent(self, client: &Client) -> Agent {
        self.into_agent_for(client.project(), client.region())
    }

    fn into_agent_for(self, project: &str, region: Region) -> Agent {
        Agent {
            id: self.agent_id,
            name: string(self.name),
            description: string(self.description),
            avatar: string(self.emoji),
            project: string(self.project).unwrap_or_else(|| project.to_string()),
            region,
            public: self.public.as_bool().unwrap_or(false),
            model: string(self.model),
            created_at: timestamp(&self.insert_date_),
            updated_at: timestamp(&self.update_date_),
        }
    }
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// ISO-8601 with an offset, or without one (the platform's Python side
/// writes naive UTC times).
pub(crate) fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn decode(json: &str) -> serde_json::Result<Agent> {
        serde_json::from_str::<AgentConfig>(json)
            .map(|c| c.into_agent_for("client-project", Region::EU))
    }

    #[test]
    fn full_agent_config_decodes() {
        let agent = decode(
            r#"{"agent_id":"a1","_id":"a1","public":true,"project":"p1","name":"Helper",
                "description":"Helps","emoji":"🤖","insert_date_":"2024-05-01T10:00:00Z",
                "update_date_":"2024-05-02T11:30:00.250+02:00","model":"gpt-4o","extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(
            agent,
            Agent {
                id: "a1".into(),
                name: Some("Helper".into()),
                description: Some("Helps".into()),
                avatar: Some("🤖".into()),
                project: "p1".into(),
                region: Region::EU,
                public: true,
                model: Some("gpt-4o".into()),
                created_at: Some(Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()),
                updated_at: Some(
                    Utc.with_ymd_and_hms(2024, 5, 2, 9, 30, 0).unwrap()
                        + chrono::Duration::milliseconds(250)
                ),
            }
        );
    }

    #[test]
    fn minimal_and_ill_typed_optionals_decode_leniently() {
        let agent = decode(
            r#"{"agent_id":"a2","name":null,"public":"yes","model":5,"insert_date_":"not a date"}"#,
        )
        .unwrap();
        assert_eq!(agent.id, "a2");
        assert_eq!(agent.name, None);
        assert_eq!(agent.project, "client-project");
        assert!(!agent.public);
        assert_eq!(agent.model, None);
        assert_eq!(agent.created_at, None);
    }

    #[test]
    fn a_missing_agent_id_is_an_error() {
        let error = decode(r#"{"name":"x"}"#).err().unwrap();
        assert!(error.to_string().contains("agent_id"), "{error}");
    }

    #[test]
    fn timestamp_formats() {
        let expected = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let cases = [
            ("2024-01-02T03:04:05Z", Some(expected)),
            ("2024-01-02T03:04:05+00:00", Some(expected)),
            ("2024-01-02T04:04:05+01:00", Some(expected)),
            ("2024-01-02T03:04:05", Some(expected)),
            ("2024-01-02 03:04:05", Some(expected)),
            ("2024-01-02T03:04:05.000000", Some(expected)),
            ("yesterday", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(timestamp(&Value::from(text)), want, "{text}");
        }
        assert_eq!(timestamp(&Value::from(17)), None);
        assert_eq!(timestamp(&Value::Null), None);
    }
}
