//! The seed's checks: every id, reference, behaviour, script step and limit of the file
//! format (`file`) turned into validated definitions, or the first problem with its line.

use std::collections::HashSet;

use toml::Spanned;

use super::file::{AgentEntry, EmulatorEntry, ProjectEntry, WorkforceEntry};
use super::{SeedProblem, SeedSettings, SeededProject, DEFAULT_MODEL};
use crate::engine::script::{self, Action, BehaviorConfig, BEHAVIORS, END_STATES};
use crate::region::Region;
use crate::store::definitions::{AgentSpec, ProjectSpec, WorkforceSpec, DEFAULT_EXECUTION_LIMIT};
use crate::store::tools as catalog_tools;
use crate::store::webhooks::WebhookSpec;

/// The most member runs a workforce seed may allow per trigger.
const MAX_EXECUTION_LIMIT: i64 = 1000;

/// 1-based line of a byte offset in `source`.
pub(super) fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub(super) struct Checker<'a> {
    pub(super) source: &'a str,
}

impl Checker<'_> {
    pub(super) fn problem<T>(&self, value: &Spanned<T>, problem: String) -> SeedProblem {
        SeedProblem {
            line: line_of(self.source, value.span().start),
            problem,
        }
    }

    /// Ids end up in URL paths (unencoded) and before the `:` of `{project}:{key}`.
    pub(super) fn id(&self, what: &str, id: &Spanned<String>) -> Result<String, SeedProblem> {
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
    pub(super) fn at_least(
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
    pub(super) fn rate(
        &self,
        what: &str,
        value: &Option<Spanned<f64>>,
    ) -> Result<Option<f64>, SeedProblem> {
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
    pub(super) fn settings(
        &self,
        entry: Option<&EmulatorEntry>,
    ) -> Result<SeedSettings, SeedProblem> {
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
    pub(super) fn behavior_config(
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
    /// The agents' webhook triggers, in seed order.
    webhooks: Vec<WebhookSpec>,
    ids: HashSet<String>,
    sub_agent_calls: Vec<(String, String, usize)>,
    handovers: Vec<AgentReference>,
}

impl Checker<'_> {
    /// One `[[projects]]` table: its id, region, API keys, agents and workforces.
    pub(super) fn project(
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
                webhooks: agents.webhooks,
            },
            api_keys,
        })
    }

    /// A project's `api_keys`: not empty, no whitespace, each value once in the whole seed.
    pub(super) fn api_keys(
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
            webhooks: Vec::new(),
            ids: HashSet::new(),
            sub_agent_calls: Vec::new(),
            handovers: Vec::new(),
        };
        let mut webhook_ids = HashSet::new();
        for mut agent in entries {
            let agent_id = self.id("agent", &agent.id)?;
            let listed = std::mem::take(&mut agent.tools);
            let tool_ids = self.agent_tools(project, &agent_id, &listed, tools)?;
            let webhooks = std::mem::take(&mut agent.webhooks);
            let webhooks = self.webhooks(&agent_id, webhooks, &mut webhook_ids)?;
            checked.webhooks.extend(webhooks);
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
