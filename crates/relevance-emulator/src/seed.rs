//! Seed file (TOML) → validated definitions → idempotent upsert.
//!
//! Parsing reports problems by line so an operator can fix the file; applying
//! is an upsert in one transaction, so re-running with the same data
//! directory and seed changes nothing. API key values from the file are
//! stored only as hashes. Objects removed from the file are not deleted.
//!
//! Three seams: `file` is the format as written (TOML tables with spans),
//! `check` turns it into validated definitions or the first problem with its
//! line, and this module holds the result ([`Seed`]) and applies it.

use std::collections::HashSet;
use std::path::Path;

use crate::auth::register_api_key;
use crate::faults::Faults;
use crate::store::definitions::{self, ProjectSpec};
use crate::store::Db;

use check::{line_of, Checker};
use file::SeedFile;

mod check;
mod file;
mod tools;
mod webhooks;

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
    use crate::engine::script::BehaviorConfig;
    use crate::region::Region;

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
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n[[projects.agents.webhooks]]\nmessage_template = \"Hi {{name\"\n",
                7,
                "never closes",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n[[projects.agents.webhooks]]\nid = \"abc\"\nmessage_template = \"Hi\"\n",
                7,
                "shorter than 6",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n[[projects.agents.webhooks]]\nid = \"hook-one\"\nmessage_template = \"Hi\"\n[[projects.agents]]\nid = \"y\"\n[[projects.agents.webhooks]]\nid = \"hook-one\"\nmessage_template = \"Hi\"\n",
                12,
                "duplicate webhook id",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n[[projects.agents.webhooks]]\nmessage_template = \"Hi\"\nthread_id_field = \"a..b\"\n",
                8,
                "thread_id_field",
            ),
            (
                "[[projects]]\nid = \"a\"\nregion = \"us\"\n[[projects.agents]]\nid = \"x\"\n[[projects.agents.webhooks]]\nid = \"hook/one\"\nmessage_template = \"Hi\"\n",
                7,
                "'/'",
            ),
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
