//! Seed file (TOML) → validated definitions → idempotent upsert.
//!
//! Parsing reports problems by line so an operator can fix the file; applying
//! is an upsert in one transaction, so re-running with the same data
//! directory and seed changes nothing. API key values from the file are
//! stored only as hashes. Objects removed from the file are not deleted.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::Connection;
use serde::Deserialize;
use toml::Spanned;

use crate::auth::register_api_key;
use crate::region::Region;
use crate::store::catalog::{self, AgentSpec, ProjectSpec, WorkforceSpec};

/// The behaviours an agent may have; the agents issue adds more.
pub(crate) const BEHAVIORS: &[&str] = &["echo"];

/// The model an agent reports when the seed names none.
pub(crate) const DEFAULT_MODEL: &str = "emulated";

/// A problem in a seed file, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedProblem {
    pub(crate) line: usize,
    pub(crate) problem: String,
}

/// A validated seed: project definitions plus the API key values to register.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Seed {
    pub(crate) projects: Vec<SeededProject>,
}

/// One project of a seed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SeededProject {
    pub(crate) spec: ProjectSpec,
    api_keys: Vec<String>,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seed")
            .field(
                "projects",
                &self
                    .projects
                    .iter()
                    .map(|project| (&project.spec, project.api_keys.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    projects: Vec<ProjectEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectEntry {
    id: Spanned<String>,
    region: Spanned<String>,
    #[serde(default)]
    api_keys: Vec<Spanned<String>>,
    #[serde(default)]
    agents: Vec<AgentEntry>,
    #[serde(default)]
    workforces: Vec<WorkforceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentEntry {
    id: Spanned<String>,
    name: Option<String>,
    description: Option<String>,
    emoji: Option<String>,
    #[serde(default)]
    public: bool,
    model: Option<String>,
    behavior: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkforceEntry {
    id: Spanned<String>,
    name: Option<String>,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
}

/// 1-based line of a byte offset in `source`.
fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Checker<'a> {
    source: &'a str,
}

impl Checker<'_> {
    fn problem<T>(&self, value: &Spanned<T>, problem: String) -> SeedProblem {
        SeedProblem {
            line: line_of(self.source, value.span().start),
            problem,
        }
    }

    /// Ids end up in URL paths (unencoded) and before the `:` of `{project}:{key}`.
    fn id(&self, what: &str, id: &Spanned<String>) -> Result<String, SeedProblem> {
        let value = id.get_ref();
        if value.is_empty() {
            return Err(self.problem(id, format!("{what} id is empty")));
        }
        if let Some(bad) = value.chars().find(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '/' | ':' | '?' | '#' | '%')
        }) {
            return Err(self.problem(
                id,
                format!("{what} id {value:?} contains {bad:?}; ids may not contain whitespace, '/', ':', '?', '#' or '%'"),
            ));
        }
        Ok(value.clone())
    }
}

/// Parses and validates seed text; `Err` names the line and the problem.
pub(crate) fn parse(source: &str) -> Result<Seed, SeedProblem> {
    let file: SeedFile = toml::from_str(source).map_err(|error| SeedProblem {
        line: error
            .span()
            .map(|span| line_of(source, span.start))
            .unwrap_or(1),
        problem: error.message().trim().to_string(),
    })?;
    let check = Checker { source };
    let mut project_ids = HashSet::new();
    let mut key_values = HashSet::new();
    let mut projects = Vec::new();
    for entry in file.projects {
        let id = check.id("project", &entry.id)?;
        if !project_ids.insert(id.clone()) {
            return Err(check.problem(&entry.id, format!("duplicate project id {id:?}")));
        }
        let region = Region::from_seed(entry.region.get_ref()).ok_or_else(|| {
            check.problem(
                &entry.region,
                format!(
                    "unknown region {:?}: use us, eu or au (any case) or a region code: {}",
                    entry.region.get_ref(),
                    Region::valid_codes()
                ),
            )
        })?;
        let mut api_keys = Vec::new();
        for key in &entry.api_keys {
            let value = key.get_ref();
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(check.problem(
                    key,
                    format!("an API key of project {id:?} is empty or contains whitespace"),
                ));
            }
            if !key_values.insert(value.clone()) {
                return Err(check.problem(
                    key,
                    "the same API key value appears twice in the seed file".to_string(),
                ));
            }
            api_keys.push(value.clone());
        }
        let mut agent_ids = HashSet::new();
        let mut agents = Vec::new();
        for agent in entry.agents {
            let agent_id = check.id("agent", &agent.id)?;
            if !agent_ids.insert(agent_id.clone()) {
                return Err(check.problem(
                    &agent.id,
                    format!("duplicate agent id {agent_id:?} in project {id:?}"),
                ));
            }
            let behavior = match &agent.behavior {
                None => BEHAVIORS[0].to_string(),
                Some(behavior) if BEHAVIORS.contains(&behavior.get_ref().as_str()) => {
                    behavior.get_ref().clone()
                }
                Some(behavior) => {
                    return Err(check.problem(
                        behavior,
                        format!(
                            "unknown behavior {:?} for agent {agent_id:?}: valid behaviors are {}",
                            behavior.get_ref(),
                            BEHAVIORS.join(", ")
                        ),
                    ))
                }
            };
            agents.push(AgentSpec {
                id: agent_id,
                name: agent.name,
                description: agent.description,
                emoji: agent.emoji,
                public: agent.public,
                model: agent.model.unwrap_or_else(|| DEFAULT_MODEL.to_string()),
                behavior,
            });
        }
        let mut workforce_ids = HashSet::new();
        let mut workforces = Vec::new();
        for workforce in entry.workforces {
            let workforce_id = check.id("workforce", &workforce.id)?;
            if !workforce_ids.insert(workforce_id.clone()) {
                return Err(check.problem(
                    &workforce.id,
                    format!("duplicate workforce id {workforce_id:?} in project {id:?}"),
                ));
            }
            let mut members = Vec::new();
            for member in &workforce.agents {
                if !agent_ids.contains(member.get_ref()) {
                    return Err(check.problem(
                        member,
                        format!(
                            "workforce {workforce_id:?} names agent {:?}, which is not an agent of project {id:?}",
                            member.get_ref()
                        ),
                    ));
                }
                members.push(member.get_ref().clone());
            }
            workforces.push(WorkforceSpec {
                name: workforce.name.unwrap_or_else(|| workforce_id.clone()),
                id: workforce_id,
                agents: members,
            });
        }
        projects.push(SeededProject {
            spec: ProjectSpec {
                id,
                region,
                agents,
                workforces,
            },
            api_keys,
        });
    }
    Ok(Seed { projects })
}

/// Reads a seed file; I/O errors come back as they are, for the caller to name the file.
pub(crate) fn read(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Upserts the seed in one transaction.
pub(crate) fn apply(connection: &mut Connection, seed: &Seed, now: &str) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    for project in &seed.projects {
        catalog::upsert_project(&transaction, &project.spec, now)?;
        for key in &project.api_keys {
            register_api_key(&transaction, &project.spec.id, key, "seed", now)?;
        }
    }
    transaction.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(source: &str) -> SeedProblem {
        parse(source).expect_err("seed must be refused")
    }

    #[test]
    fn a_complete_seed_parses() {
        let seed = parse(
            r#"
[[projects]]
id = "proj-a"
region = "EU"
api_keys = ["sk-test-a-0001"]

[[projects.agents]]
id = "agent-public"
name = "Support"
public = true

[[projects.agents]]
id = "agent-private"

[[projects.workforces]]
id = "wf-1"
name = "Front desk"
agents = ["agent-public", "agent-private"]
"#,
        )
        .expect("valid seed");
        let project = &seed.projects[0];
        assert_eq!(project.spec.region, Region::Eu);
        assert_eq!(project.api_keys, vec!["sk-test-a-0001".to_string()]);
        assert_eq!(project.spec.agents.len(), 2);
        assert!(project.spec.agents[0].public);
        assert!(!project.spec.agents[1].public);
        assert_eq!(project.spec.agents[1].model, "emulated");
        assert_eq!(project.spec.agents[1].behavior, "echo");
        assert_eq!(project.spec.workforces[0].agents.len(), 2);
        assert!(!format!("{seed:?}").contains("sk-test-a-0001"));
    }

    #[test]
    fn problems_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("[[projects]]\nid = \"a\"\nregion = \"mars\"\n", 3, "unknown region"),
            ("[[projects]]\nid = \"\"\nregion = \"us\"\n", 2, "empty"),
            ("[[projects]]\nid = \"a/b\"\nregion = \"us\"\n", 2, "'/'"),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects]]\nid = \"a\"\nregion = \"us\"\n",
                5,
                "duplicate project",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n[[projects.agents]]\nid = \"x\"\n",
                7,
                "duplicate agent",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.workforces]]\nid = \"w\"\nagents = [\"ghost\"]\n",
                6,
                "ghost",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\nbehavior = \"dance\"\n",
                6,
                "unknown behavior",
            ),
            ("[[projects]]\nid = \"a\"\nregion = \n", 3, ""),
            ("[[projects]]\nid = \"a\"\nregion = \"us\"\ncolour = 1\n", 4, "colour"),
        ];
        for (source, line, needle) in cases {
            let found = problem(source);
            assert_eq!(found.line, *line, "{source:?} → {found:?}");
            assert!(found.problem.contains(needle), "{source:?} → {found:?}");
        }
    }
}
