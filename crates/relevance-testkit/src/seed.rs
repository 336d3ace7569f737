//! A seed file's text, built in code: for tests whose seed is a variation of another, or is
//! made in a loop, where a TOML constant would be copied and edited by hand.
//!
//! The text is written with the `toml` crate (the one the emulator reads it with), so values
//! are always quoted and escaped correctly; the emulator's seed loader still checks it.

use serde::Serialize;
use toml::{Table, Value};

/// A whole seed: projects, each with its keys, agents and workforces.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Seed {
    projects: Vec<ProjectSeed>,
}

/// One `[[projects]]` entry.
#[derive(Clone, Debug, Serialize)]
pub struct ProjectSeed {
    id: String,
    region: String,
    api_keys: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    agents: Vec<Table>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    workforces: Vec<WorkforceSeed>,
}

/// One `[[projects.agents]]` entry: an id plus any of the agent fields the README lists.
#[derive(Clone, Debug)]
pub struct AgentSeed {
    fields: Table,
}

/// One `[[projects.workforces]]` entry.
#[derive(Clone, Debug, Serialize)]
pub struct WorkforceSeed {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    agents: Vec<String>,
}

impl Seed {
    /// A seed with no project yet.
    pub fn new() -> Seed {
        Seed::default()
    }

    /// Adds a project.
    pub fn project(mut self, project: ProjectSeed) -> Seed {
        self.projects.push(project);
        self
    }

    /// The seed file's text.
    pub fn text(&self) -> String {
        toml::to_string(self).expect("a seed always serialises")
    }
}

impl ProjectSeed {
    /// A project in `region` (a name such as `us` or a region code).
    pub fn new(id: &str, region: &str) -> ProjectSeed {
        ProjectSeed {
            id: id.to_string(),
            region: region.to_string(),
            api_keys: Vec::new(),
            agents: Vec::new(),
            workforces: Vec::new(),
        }
    }

    /// Adds an API key value.
    pub fn api_key(mut self, key: &str) -> ProjectSeed {
        self.api_keys.push(key.to_string());
        self
    }

    /// Adds an agent.
    pub fn agent(mut self, agent: AgentSeed) -> ProjectSeed {
        self.agents.push(agent.fields);
        self
    }

    /// Adds a workforce.
    pub fn workforce(mut self, workforce: WorkforceSeed) -> ProjectSeed {
        self.workforces.push(workforce);
        self
    }
}

impl AgentSeed {
    /// A private echo agent (the emulator's defaults).
    pub fn new(id: &str) -> AgentSeed {
        let mut fields = Table::new();
        fields.insert("id".into(), Value::from(id));
        AgentSeed { fields }
    }

    /// Embed keys can be made for it.
    pub fn public(self) -> AgentSeed {
        self.set("public", true)
    }

    /// It streams its replies (live typing).
    pub fn streaming(self) -> AgentSeed {
        self.set("use_streaming", true)
    }

    /// Its display name.
    pub fn name(self, name: &str) -> AgentSeed {
        self.set("name", name)
    }

    /// Any other field (`behavior`, `chunk_delay_ms`, `script`, ...), as the README names it.
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> AgentSeed {
        self.fields.insert(field.to_string(), value.into());
        self
    }
}

impl WorkforceSeed {
    /// A workforce of the given agents, in order.
    pub fn new(id: &str, agents: &[&str]) -> WorkforceSeed {
        WorkforceSeed {
            id: id.to_string(),
            name: None,
            agents: agents.iter().map(|agent| agent.to_string()).collect(),
        }
    }

    /// Its display name.
    pub fn name(mut self, name: &str) -> WorkforceSeed {
        self.name = Some(name.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_the_toml_the_readme_describes() {
        let text = Seed::new()
            .project(
                ProjectSeed::new("p\"1", "us")
                    .api_key("sk-1")
                    .agent(AgentSeed::new("a").public().streaming().name("Support"))
                    .agent(AgentSeed::new("b").set("chunk_delay_ms", 1))
                    .workforce(WorkforceSeed::new("w", &["a", "b"]).name("Desk")),
            )
            .project(ProjectSeed::new("q", "eu"))
            .text();
        let parsed: Table = text.parse().expect("valid TOML");
        let projects = parsed["projects"].as_array().expect("projects");
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[0]["id"].as_str(), Some("p\"1"));
        assert_eq!(projects[0]["api_keys"].as_array().unwrap().len(), 1);
        let agents = projects[0]["agents"].as_array().expect("agents");
        assert_eq!(agents[0]["public"].as_bool(), Some(true));
        assert_eq!(agents[0]["use_streaming"].as_bool(), Some(true));
        assert_eq!(agents[0]["name"].as_str(), Some("Support"));
        assert_eq!(agents[1]["chunk_delay_ms"].as_integer(), Some(1));
        assert!(agents[1].get("public").is_none());
        let workforce = &projects[0]["workforces"][0];
        assert_eq!(workforce["name"].as_str(), Some("Desk"));
        assert_eq!(workforce["agents"].as_array().unwrap().len(), 2);
        assert!(projects[1].get("agents").is_none());
    }

    /// The emulator's own loader accepts what the builder writes, with every field meant.
    #[tokio::test]
    async fn the_emulator_loads_a_built_seed() {
        let seed = Seed::new().project(
            ProjectSeed::new("proj-built", "eu")
                .api_key("sk-built-0001")
                .agent(AgentSeed::new("built").public().streaming().name("Built"))
                .workforce(WorkforceSeed::new("wf-built", &["built"]).name("Desk")),
        );
        let t = crate::TestEmulator::start_with(&seed.text()).await;
        let http = reqwest::Client::new();
        let read = |path: &str| {
            http.get(format!("{}/d7b62b/latest/{path}", t.base_url))
                .header("Authorization", "proj-built:sk-built-0001")
                .send()
        };
        let agent: serde_json::Value = read("agents/built/get")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(agent["agent"]["name"], "Built");
        assert_eq!(agent["agent"]["public"], true);
        let workforce = read("workforce/items/wf-built").await.unwrap();
        assert_eq!(workforce.status(), reqwest::StatusCode::OK);
        let workforce: serde_json::Value = workforce.json().await.unwrap();
        assert_eq!(workforce["workforce_metadata"]["name"], "Desk");
    }
}
