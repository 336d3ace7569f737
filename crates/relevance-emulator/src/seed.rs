//! Seed file (TOML) → validated definitions → idempotent upsert.
//!
//! Parsing reports problems by line so an operator can fix the file; applying
//! is an upsert in one transaction, so re-running with the same data
//! directory and seed changes nothing. API key values from the file are
//! stored only as hashes. Objects removed from the file are not deleted.

use std::collections::HashSet;
use std::path::Path;

use crate::store::Db;
use serde::Deserialize;
use toml::Spanned;

use crate::auth::register_api_key;
use crate::engine::script::{self, Action, BehaviorConfig, BEHAVIORS, END_STATES};
use crate::faults::Faults;
use crate::region::Region;
use crate::store::definitions::{
    self, AgentSpec, ProjectSpec, WorkforceSpec, DEFAULT_EXECUTION_LIMIT,
};
use crate::store::tools as catalog_tools;

mod tools;

/// The model an agent reports when the seed names none.
pub(crate) const DEFAULT_MODEL: &str = "emulated";

/// A problem in a seed file, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedProblem {
    pub(crate) line: usize,
    pub(crate) problem: String,
}

/// A validated seed: project definitions plus the API key values to register.
#[derive(Clone, PartialEq)]
pub(crate) struct Seed {
    pub(crate) projects: Vec<SeededProject>,
    /// The optional `[emulator]` table.
    pub(crate) settings: SeedSettings,
}

/// The seed's `[emulator]` table: server settings a test wants pinned in its seed.
/// Each value applies only where the [`crate::Config`] field is left at its default,
/// so an explicit setting (a CLI flag) wins over the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SeedSettings {
    streaming_token_ttl_ms: Option<u64>,
    error_rate: Option<f64>,
    rate_limit_rate: Option<f64>,
    drop_rate: Option<f64>,
    added_latency_ms: Option<u64>,
    stream_cut_every_ms: Option<u64>,
    fault_seed: Option<u64>,
}

impl SeedSettings {
    /// The streaming-token TTL and faults to run with, given the configured ones.
    pub(crate) fn merge_into(&self, ttl_ms: u64, configured: &Faults) -> (u64, Faults) {
        let defaults = Faults::default();
        fn pick<T: PartialEq + Copy>(configured: T, default: T, seeded: Option<T>) -> T {
            match seeded {
                Some(seeded) if configured == default => seeded,
                _ => configured,
            }
        }
        let ttl_ms = pick(
            ttl_ms,
            crate::DEFAULT_STREAMING_TOKEN_TTL_MS,
            self.streaming_token_ttl_ms,
        );
        let faults = Faults {
            error_rate: pick(configured.error_rate, defaults.error_rate, self.error_rate),
            rate_limit_rate: pick(
                configured.rate_limit_rate,
                defaults.rate_limit_rate,
                self.rate_limit_rate,
            ),
            drop_rate: pick(configured.drop_rate, defaults.drop_rate, self.drop_rate),
            added_latency_ms: pick(
                configured.added_latency_ms,
                defaults.added_latency_ms,
                self.added_latency_ms,
            ),
            stream_cut_every_ms: configured.stream_cut_every_ms.or(self.stream_cut_every_ms),
            seed: configured.seed.or(self.fault_seed),
        };
        (ttl_ms, faults)
    }
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
            .field("settings", &self.settings)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    projects: Vec<ProjectEntry>,
    emulator: Option<EmulatorEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmulatorEntry {
    streaming_token_ttl_ms: Option<Spanned<i64>>,
    faults: Option<FaultsEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsEntry {
    error_rate: Option<Spanned<f64>>,
    rate_limit_rate: Option<Spanned<f64>>,
    drop_rate: Option<Spanned<f64>>,
    added_latency_ms: Option<Spanned<i64>>,
    stream_cut_every_ms: Option<Spanned<i64>>,
    seed: Option<Spanned<i64>>,
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
    #[serde(default)]
    tools: Vec<tools::ToolEntry>,
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
    /// The agent's own `use_streaming` (PROTOCOL A8b); off by default, as on the platform.
    #[serde(default)]
    use_streaming: bool,
    model: Option<String>,
    behavior: Option<Spanned<String>>,
    script: Option<Spanned<Vec<Spanned<toml::Table>>>>,
    end_state: Option<Spanned<String>>,
    chunk_delay_ms: Option<Spanned<i64>>,
    /// Tools of the project this agent may use (`agents/tools/list`).
    #[serde(default)]
    tools: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkforceEntry {
    id: Spanned<String>,
    name: Option<String>,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
    execution_limit: Option<Spanned<i64>>,
}

/// The most member runs a workforce seed may allow per trigger.
const MAX_EXECUTION_LIMIT: i64 = 1000;

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

impl Checker<'_> {
    /// A whole number in `min..`, named `what` in the problem.
    fn at_least(
        &self,
        what: &str,
        value: &Option<Spanned<i64>>,
        min: i64,
    ) -> Result<Option<u64>, SeedProblem> {
        let Some(value) = value else {
            return Ok(None);
        };
        u64::try_from(*value.get_ref())
            .ok()
            .filter(|_| *value.get_ref() >= min)
            .map(Some)
            .ok_or_else(|| self.problem(value, format!("{what} must be a whole number >= {min}")))
    }

    /// A probability, named `what` in the problem.
    fn rate(&self, what: &str, value: &Option<Spanned<f64>>) -> Result<Option<f64>, SeedProblem> {
        let Some(value) = value else {
            return Ok(None);
        };
        let rate = *value.get_ref();
        if (0.0..=1.0).contains(&rate) {
            Ok(Some(rate))
        } else {
            Err(self.problem(value, format!("{what} must be from 0.0 to 1.0")))
        }
    }

    /// The `[emulator]` table.
    fn settings(&self, entry: Option<&EmulatorEntry>) -> Result<SeedSettings, SeedProblem> {
        let Some(entry) = entry else {
            return Ok(SeedSettings::default());
        };
        let mut settings = SeedSettings {
            streaming_token_ttl_ms: self.at_least(
                "emulator.streaming_token_ttl_ms",
                &entry.streaming_token_ttl_ms,
                1,
            )?,
            ..SeedSettings::default()
        };
        if let Some(faults) = &entry.faults {
            settings.error_rate = self.rate("emulator.faults.error_rate", &faults.error_rate)?;
            settings.rate_limit_rate =
                self.rate("emulator.faults.rate_limit_rate", &faults.rate_limit_rate)?;
            settings.drop_rate = self.rate("emulator.faults.drop_rate", &faults.drop_rate)?;
            settings.added_latency_ms = self.at_least(
                "emulator.faults.added_latency_ms",
                &faults.added_latency_ms,
                0,
            )?;
            settings.stream_cut_every_ms = self.at_least(
                "emulator.faults.stream_cut_every_ms",
                &faults.stream_cut_every_ms,
                1,
            )?;
            settings.fault_seed = self.at_least("emulator.faults.seed", &faults.seed, 0)?;
        }
        Ok(settings)
    }

    /// The behaviour settings of one agent: `script` only with `behavior = "script"`.
    fn behavior_config(
        &self,
        agent_id: &str,
        behavior: &str,
        agent: &AgentEntry,
    ) -> Result<BehaviorConfig, SeedProblem> {
        let mut config = BehaviorConfig::default();
        match (&agent.script, behavior) {
            (Some(script), "script") => {
                if script.get_ref().is_empty() {
                    return Err(
                        self.problem(script, format!("agent {agent_id:?} has an empty `script`"))
                    );
                }
                for table in script.get_ref() {
                    let step = script::parse_step(table.get_ref()).map_err(|problem| {
                        self.problem(table, format!("agent {agent_id:?}: {problem}"))
                    })?;
                    config.script.push(step);
                }
            }
            (None, "script") => {
                return Err(SeedProblem {
                    line: agent
                        .behavior
                        .as_ref()
                        .map_or(1, |behavior| line_of(self.source, behavior.span().start)),
                    problem: format!(
                        "agent {agent_id:?} has behavior \"script\" but no `script = [...]`"
                    ),
                })
            }
            (Some(script), _) => {
                return Err(self.problem(
                    script,
                    format!(
                        "agent {agent_id:?} has a `script` but behavior {behavior:?}; \
                         set behavior = \"script\""
                    ),
                ))
            }
            (None, _) => {}
        }
        if let Some(end_state) = &agent.end_state {
            if !END_STATES.contains(&end_state.get_ref().as_str()) {
                return Err(self.problem(
                    end_state,
                    format!(
                        "unknown end_state {:?} for agent {agent_id:?}: use {}",
                        end_state.get_ref(),
                        END_STATES.join(" or ")
                    ),
                ));
            }
            config.end_state = end_state.get_ref().clone();
        }
        if let Some(delay) = &agent.chunk_delay_ms {
            config.chunk_delay_ms = u64::try_from(*delay.get_ref())
                .ok()
                .filter(|ms| *ms <= 60_000)
                .ok_or_else(|| {
                    self.problem(
                        delay,
                        format!("chunk_delay_ms of agent {agent_id:?} must be 0 to 60000"),
                    )
                })?;
        }
        Ok(config)
    }
}

/// Every `sub_agent` names an agent of the same project, and no agent ends up calling itself.
fn check_sub_agents(
    project: &str,
    agent_ids: &HashSet<String>,
    calls: &[(String, String, usize)],
) -> Result<(), SeedProblem> {
    for (caller, callee, line) in calls {
        if !agent_ids.contains(callee) {
            return Err(SeedProblem {
                line: *line,
                problem: format!(
                    "agent {caller:?} has a sub_agent step naming {callee:?}, \
                     which is not an agent of project {project:?}"
                ),
            });
        }
    }
    // A cycle would start sub-tasks forever: walk the call graph from each caller.
    for (caller, _, line) in calls {
        let mut seen = HashSet::new();
        let mut frontier = vec![caller.as_str()];
        while let Some(agent) = frontier.pop() {
            for (from, to, _) in calls.iter().filter(|(from, _, _)| from == agent) {
                if to == caller {
                    return Err(SeedProblem {
                        line: *line,
                        problem: format!(
                            "sub_agent steps form a cycle through agent {caller:?} \
                             (via {from:?} → {to:?}); a run would start sub-tasks forever"
                        ),
                    });
                }
                if seen.insert(to.as_str()) {
                    frontier.push(to);
                }
            }
        }
    }
    Ok(())
}

/// Parses and validates seed text; `Err` names the line and the problem.
pub(crate) fn parse(source: &str) -> Result<Seed, SeedProblem> {
    let file: SeedFile = toml::from_str(source).map_err(|error| SeedProblem {
        line: error
            .span()
            .map(|span| line_of(source, span.start))
            .unwrap_or(1),
        // Some TOML errors (a lone `\r`, found by the property tests) carry no message.
        problem: match error.message().trim() {
            "" => "invalid TOML syntax".to_string(),
            message => message.to_string(),
        },
    })?;
    let check = Checker { source };
    let settings = check.settings(file.emulator.as_ref())?;
    let mut project_ids = HashSet::new();
    let mut key_values = HashSet::new();
    let mut projects = Vec::new();
    for entry in file.projects {
        projects.push(check.project(entry, &mut project_ids, &mut key_values)?);
    }
    Ok(Seed { projects, settings })
}

/// A script step that points at another agent: where it is, who wrote it, whom it names.
struct AgentReference {
    from: String,
    to: String,
    line: usize,
}

/// A project's agents as checked, with the steps that name other agents (checked once
/// every agent of the project is known).
struct CheckedAgents {
    agents: Vec<AgentSpec>,
    ids: HashSet<String>,
    sub_agent_calls: Vec<(String, String, usize)>,
    handovers: Vec<AgentReference>,
}

impl Checker<'_> {
    /// One `[[projects]]` table: its id, region, API keys, agents and workforces.
    fn project(
        &self,
        entry: ProjectEntry,
        project_ids: &mut HashSet<String>,
        key_values: &mut HashSet<String>,
    ) -> Result<SeededProject, SeedProblem> {
        let id = self.id("project", &entry.id)?;
        if !project_ids.insert(id.clone()) {
            return Err(self.problem(&entry.id, format!("duplicate project id {id:?}")));
        }
        let region = Region::from_seed(entry.region.get_ref()).ok_or_else(|| {
            self.problem(
                &entry.region,
                format!(
                    "unknown region {:?}: use us, eu or au (any case) or a region code: {}",
                    entry.region.get_ref(),
                    Region::valid_codes()
                ),
            )
        })?;
        let api_keys = self.api_keys(&id, &entry.api_keys, key_values)?;
        let tools = self.tools(&id, entry.tools)?;
        let agents = self.agents(&id, entry.agents, &tools)?;
        check_sub_agents(&id, &agents.ids, &agents.sub_agent_calls)?;
        for handover in &agents.handovers {
            if !agents.ids.contains(&handover.to) {
                return Err(SeedProblem {
                    line: handover.line,
                    problem: format!(
                        "agent {:?} has a handover step naming {:?}, \
                         which is not an agent of project {id:?}",
                        handover.from, handover.to
                    ),
                });
            }
        }
        let mut workforce_ids = HashSet::new();
        let mut workforces = Vec::new();
        for workforce in entry.workforces {
            workforces.push(self.workforce(&id, workforce, &agents, &mut workforce_ids)?);
        }
        Ok(SeededProject {
            spec: ProjectSpec {
                id,
                region,
                agents: agents.agents,
                workforces,
                tools,
            },
            api_keys,
        })
    }

    /// A project's `api_keys`: not empty, no whitespace, each value once in the whole seed.
    fn api_keys(
        &self,
        project: &str,
        keys: &[Spanned<String>],
        key_values: &mut HashSet<String>,
    ) -> Result<Vec<String>, SeedProblem> {
        let mut api_keys = Vec::new();
        for key in keys {
            let value = key.get_ref();
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(self.problem(
                    key,
                    format!("an API key of project {project:?} is empty or contains whitespace"),
                ));
            }
            if !key_values.insert(value.clone()) {
                return Err(self.problem(
                    key,
                    "the same API key value appears twice in the seed file".to_string(),
                ));
            }
            api_keys.push(value.clone());
        }
        Ok(api_keys)
    }

    /// A project's `[[projects.agents]]`, each id once.
    fn agents(
        &self,
        project: &str,
        entries: Vec<AgentEntry>,
        tools: &[catalog_tools::ToolSpec],
    ) -> Result<CheckedAgents, SeedProblem> {
        let mut checked = CheckedAgents {
            agents: Vec::new(),
            ids: HashSet::new(),
            sub_agent_calls: Vec::new(),
            handovers: Vec::new(),
        };
        for mut agent in entries {
            let agent_id = self.id("agent", &agent.id)?;
            let listed = std::mem::take(&mut agent.tools);
            let tool_ids = self.agent_tools(project, &agent_id, &listed, tools)?;
            if !checked.ids.insert(agent_id.clone()) {
                return Err(self.problem(
                    &agent.id,
                    format!("duplicate agent id {agent_id:?} in project {project:?}"),
                ));
            }
            let mut spec = self.agent(agent_id, agent, &mut checked)?;
            spec.tools = tool_ids;
            checked.agents.push(spec);
        }
        Ok(checked)
    }

    /// One agent: its behaviour, its script's references to other agents, its settings.
    fn agent(
        &self,
        agent_id: String,
        agent: AgentEntry,
        checked: &mut CheckedAgents,
    ) -> Result<AgentSpec, SeedProblem> {
        let behavior = match &agent.behavior {
            None => BEHAVIORS[0].to_string(),
            Some(behavior) if BEHAVIORS.contains(&behavior.get_ref().as_str()) => {
                behavior.get_ref().clone()
            }
            Some(behavior) => {
                return Err(self.problem(
                    behavior,
                    format!(
                        "unknown behavior {:?} for agent {agent_id:?}: valid behaviors are {}",
                        behavior.get_ref(),
                        BEHAVIORS.join(", ")
                    ),
                ))
            }
        };
        let config = self.behavior_config(&agent_id, &behavior, &agent)?;
        let steps = config.script.len();
        for (index, (step, table)) in config
            .script
            .iter()
            .zip(agent.script.iter().flat_map(|script| script.get_ref()))
            .enumerate()
        {
            let line = line_of(self.source, table.span().start);
            match &step.action {
                Action::SubAgent {
                    agent_id: callee, ..
                } => checked
                    .sub_agent_calls
                    .push((agent_id.clone(), callee.clone(), line)),
                Action::Handover {
                    agent_id: receiver, ..
                } => {
                    if index + 1 != steps {
                        return Err(SeedProblem {
                            line,
                            problem: format!(
                                "agent {agent_id:?} has a handover step that is not its \
                                 last step; a handover ends the agent's run, so put it last"
                            ),
                        });
                    }
                    checked.handovers.push(AgentReference {
                        from: agent_id.clone(),
                        to: receiver.clone(),
                        line,
                    });
                }
                _ => {}
            }
        }
        Ok(AgentSpec {
            id: agent_id,
            name: agent.name,
            description: agent.description,
            emoji: agent.emoji,
            public: agent.public,
            model: agent.model.unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            behavior,
            behavior_config: config.to_json(),
            use_streaming: agent.use_streaming,
            tools: Vec::new(),
        })
    }

    /// One `[[projects.workforces]]`: members of the project, handovers that stay inside it,
    /// an execution limit in range.
    fn workforce(
        &self,
        project: &str,
        workforce: WorkforceEntry,
        agents: &CheckedAgents,
        workforce_ids: &mut HashSet<String>,
    ) -> Result<WorkforceSpec, SeedProblem> {
        let workforce_id = self.id("workforce", &workforce.id)?;
        if !workforce_ids.insert(workforce_id.clone()) {
            return Err(self.problem(
                &workforce.id,
                format!("duplicate workforce id {workforce_id:?} in project {project:?}"),
            ));
        }
        let mut members = Vec::new();
        for member in &workforce.agents {
            if !agents.ids.contains(member.get_ref()) {
                return Err(self.problem(
                    member,
                    format!(
                        "workforce {workforce_id:?} names agent {:?}, which is not an agent of project {project:?}",
                        member.get_ref()
                    ),
                ));
            }
            members.push(member.get_ref().clone());
        }
        for handover in &agents.handovers {
            if members.contains(&handover.from) && !members.contains(&handover.to) {
                return Err(SeedProblem {
                    line: handover.line,
                    problem: format!(
                        "agent {:?} hands over to {:?}, which is not a member \
                         of workforce {workforce_id:?} (whose members are {members:?})",
                        handover.from, handover.to
                    ),
                });
            }
        }
        let execution_limit = match &workforce.execution_limit {
            None => DEFAULT_EXECUTION_LIMIT,
            Some(limit) => u32::try_from(*limit.get_ref())
                .ok()
                .filter(|limit| (1..=MAX_EXECUTION_LIMIT).contains(&i64::from(*limit)))
                .ok_or_else(|| {
                    self.problem(
                        limit,
                        format!(
                            "execution_limit of workforce {workforce_id:?} must be 1 to \
                             {MAX_EXECUTION_LIMIT}"
                        ),
                    )
                })?,
        };
        Ok(WorkforceSpec {
            name: workforce.name.unwrap_or_else(|| workforce_id.clone()),
            id: workforce_id,
            agents: members,
            execution_limit,
        })
    }
}

/// Reads a seed file; I/O errors come back as they are, for the caller to name the file.
pub(crate) fn read(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Upserts the seed in one transaction.
pub(crate) fn apply(db: &mut Db, seed: &Seed, now: &str) -> rusqlite::Result<()> {
    let (connection, caches) = db.split();
    let transaction = connection.transaction()?;
    for project in &seed.projects {
        definitions::upsert_project(&transaction, &caches.agents, &project.spec, now)?;
        for key in &project.api_keys {
            register_api_key(
                &transaction,
                &caches.keys,
                &project.spec.id,
                key,
                "seed",
                now,
            )?;
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
use_streaming = true

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
        assert_eq!(project.spec.region, Region::EU);
        assert_eq!(project.api_keys, vec!["sk-test-a-0001".to_string()]);
        assert_eq!(project.spec.agents.len(), 2);
        assert!(project.spec.agents[0].public);
        assert!(!project.spec.agents[1].public);
        assert!(project.spec.agents[0].use_streaming);
        assert!(
            !project.spec.agents[1].use_streaming,
            "off by default, as on the platform"
        );
        assert_eq!(project.spec.agents[1].model, "emulated");
        assert_eq!(project.spec.agents[1].behavior, "echo");
        assert_eq!(project.spec.workforces[0].agents.len(), 2);
        assert!(!format!("{seed:?}").contains("sk-test-a-0001"));
    }

    #[test]
    fn a_script_agent_parses_with_its_settings() {
        let seed = parse(
            r#"
[[projects]]
id = "p"
region = "us"

[[projects.agents]]
id = "helper"

[[projects.agents]]
id = "boss"
behavior = "script"
end_state = "completed"
chunk_delay_ms = 0
script = [
  { think = "hm", delay_ms = 0 },
  { tool = "t", input = { q = "{message}" }, output = { n = 1 } },
  { error = "soft", continue = true },
  { sub_agent = "helper", message = "go" },
]
"#,
        )
        .expect("valid seed");
        let boss = &seed.projects[0].spec.agents[1];
        assert_eq!(boss.behavior, "script");
        let config: BehaviorConfig =
            serde_json::from_str(&boss.behavior_config).expect("stored config is JSON");
        assert_eq!(config.end_state, "completed");
        assert_eq!(config.chunk_delay_ms, 0);
        assert_eq!(config.script.len(), 4);
        assert_eq!(config.script[0].delay_ms, 0);
        assert_eq!(config.script[1].delay_ms, 20);
    }

    #[test]
    fn the_emulator_table_applies_where_the_config_keeps_its_defaults() {
        let seed = parse(
            "[emulator]\nstreaming_token_ttl_ms = 200\n[emulator.faults]\nerror_rate = 0.25\n\
             drop_rate = 1\nadded_latency_ms = 5\nstream_cut_every_ms = 50\nseed = 9\n",
        )
        .expect("valid seed");
        let (ttl, faults) = seed
            .settings
            .merge_into(crate::DEFAULT_STREAMING_TOKEN_TTL_MS, &Faults::default());
        assert_eq!(ttl, 200);
        assert_eq!(
            faults,
            Faults {
                error_rate: 0.25,
                rate_limit_rate: 0.0,
                drop_rate: 1.0,
                added_latency_ms: 5,
                stream_cut_every_ms: Some(50),
                seed: Some(9),
            }
        );
        let configured = Faults {
            error_rate: 0.5,
            seed: Some(1),
            ..Faults::default()
        };
        let (ttl, faults) = seed.settings.merge_into(1234, &configured);
        assert_eq!(ttl, 1234, "an explicit setting wins over the seed");
        assert_eq!((faults.error_rate, faults.seed), (0.5, Some(1)));
        assert_eq!(
            faults.drop_rate, 1.0,
            "fields left at default take the seed's"
        );
        let (ttl, faults) = parse("")
            .expect("empty seed")
            .settings
            .merge_into(7, &configured);
        assert_eq!((ttl, faults), (7, configured));
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
            ("[emulator]\nstreaming_token_ttl_ms = 0\n", 2, "streaming_token_ttl_ms"),
            ("[emulator]\ncolour = 1\n", 2, "colour"),
            ("[emulator.faults]\nerror_rate = 1.5\n", 2, "error_rate"),
            ("[emulator.faults]\n\nrate_limit_rate = -1\n", 3, "rate_limit_rate"),
            ("[emulator.faults]\nstream_cut_every_ms = 0\n", 2, "stream_cut_every_ms"),
            ("[emulator.faults]\nadded_latency_ms = -5\n", 2, "added_latency_ms"),
            ("[emulator.faults]\nseed = -1\n", 2, "seed"),
        ];
        let script_cases: &[(&str, usize, &str)] = &[
            ("behavior = \"script\"\nscript = [\n  { think = \"a\" },\n  { dance = \"b\" },\n]\n", 9, "exactly one action"),
            ("behavior = \"script\"\nscript = [\n  { think = \"a\", reply = \"b\" },\n]\n", 8, "2 actions"),
            ("behavior = \"script\"\nscript = [\n  { sub_agent = \"ghost\", message = \"m\" },\n]\n", 8, "\"ghost\", which is not an agent"),
            ("behavior = \"script\"\nscript = [\n  { sub_agent = \"x\", message = \"m\" },\n]\n", 8, "cycle"),
            ("behavior = \"script\"\n", 6, "no `script"),
            ("script = [{ think = \"a\" }]\n", 6, "set behavior"),
            ("end_state = \"done\"\n", 6, "unknown end_state"),
            ("chunk_delay_ms = -3\n", 6, "chunk_delay_ms"),
            ("behavior = \"script\"\nscript = [\n  { handover = \"ghost\", message = \"m\" },\n]\n", 8, "\"ghost\", which is not an agent"),
            ("behavior = \"script\"\nscript = [\n  { handover = \"x\", message = \"m\" },\n  { reply = \"r\" },\n]\n", 8, "not its last step"),
            (
                "behavior = \"script\"\nscript = [\n  { handover = \"y\", message = \"m\" },\n]\n\
                 [[projects.agents]]\nid = \"y\"\n[[projects.workforces]]\nid = \"w\"\nagents = [\"x\"]\n",
                8,
                "not a member of workforce \"w\"",
            ),
            (
                "[[projects.workforces]]\nid = \"w\"\nagents = [\"x\"]\nexecution_limit = 0\n",
                9,
                "execution_limit",
            ),
        ];
        let head = "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n";
        let owned: Vec<(String, usize, &str)> = script_cases
            .iter()
            .map(|(agent, line, needle)| (format!("{head}{agent}"), *line, *needle))
            .collect();
        let cases: Vec<(&str, usize, &str)> = cases
            .iter()
            .copied()
            .chain(
                owned
                    .iter()
                    .map(|(source, line, needle)| (source.as_str(), *line, *needle)),
            )
            .collect();
        let cases = &cases;
        for (source, line, needle) in cases.iter() {
            let found = problem(source);
            assert_eq!(found.line, *line, "{source:?} → {found:?}");
            assert!(found.problem.contains(needle), "{source:?} → {found:?}");
        }
    }
}
