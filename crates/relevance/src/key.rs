//! Keys: what they may reach and how they are persisted. Plain data: this
//! module sends nothing (embed keys are *made* in `embed`).
//!
//! A [`Key`] is an API key (the whole project) or an embed key (one public
//! agent or one workforce, plus the task prefix its new tasks must carry).
//! The secret lives in a [`SecretString`] and never appears in `Debug`,
//! `Display` or an error. A key is not `Serialize`: persisting it is the
//! explicit [`Key::to_json`] / [`Key::from_json`] pair, in the official
//! client's shape, so a key saved by either SDK restores in the
//! other and a key never lands in a log by accident.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::{Error, KeyDataError, Result};
use crate::region::Region;

/// What a key may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyScope {
    /// Every resource of the project (an API key).
    Project,
    /// One public agent (an embed key), by id.
    Agent(String),
    /// One workforce (an embed key), by id.
    Workforce(String),
}

/// The one agent or workforce an embed key is made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmbedTarget {
    /// A public agent, by id.
    Agent(String),
    /// A workforce, by id.
    Workforce(String),
}

/// Credentials for one project in one region.
#[derive(Clone)]
pub struct Key {
    secret: SecretString,
    region: Region,
    project: String,
    agent_id: Option<String>,
    workforce_id: Option<String>,
    task_prefix: Option<String>,
}

impl Key {
    /// An API key (`sk-...`) for a project.
    pub fn new(
        secret: impl Into<String>,
        region: Region,
        project: impl Into<String>,
    ) -> Result<Key> {
        let secret = non_empty(secret.into(), "secret")?;
        let project = non_empty(project.into(), "project")?;
        Ok(Key {
            secret: SecretString::from(secret),
            region,
            project,
            agent_id: None,
            workforce_id: None,
            task_prefix: None,
        })
    }

    /// An embed key that is already known (usually made by
    /// [`Key::generate_embed_key`], or restored some other way).
    pub fn embed(
        secret: impl Into<String>,
        region: Region,
        project: impl Into<String>,
        target: EmbedTarget,
        task_prefix: impl Into<String>,
    ) -> Result<Key> {
        let mut key = Key::new(secret, region, project)?;
        match target {
            EmbedTarget::Agent(id) => key.agent_id = Some(non_empty(id, "agent id")?),
            EmbedTarget::Workforce(id) => key.workforce_id = Some(non_empty(id, "workforce id")?),
        }
        key.task_prefix = Some(non_empty(task_prefix.into(), "task prefix")?);
        Ok(key)
    }

    /// The region the key's project lives in.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The project id.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// What the key may reach: the project, unless it is an embed key.
    pub fn scope(&self) -> KeyScope {
        if !self.is_embed() {
            return KeyScope::Project;
        }
        match (&self.agent_id, &self.workforce_id) {
            (Some(agent), _) => KeyScope::Agent(agent.clone()),
            (None, Some(workforce)) => KeyScope::Workforce(workforce.clone()),
            (None, None) => KeyScope::Project,
        }
    }

    /// The agent id stored with the key (even on a non-embed key, see
    /// [`Key::is_embed`]).
    pub fn agent_id(&self) -> Option<&str> {
        self.agent_id.as_deref()
    }

    /// The workforce id stored with the key.
    pub fn workforce_id(&self) -> Option<&str> {
        self.workforce_id.as_deref()
    }

    /// The prefix the ids of this key's new tasks must start with.
    pub fn task_prefix(&self) -> Option<&str> {
        self.task_prefix.as_deref()
    }

    /// The official client's rule: a key is an embed key when it has an agent
    /// or workforce id *and* a task prefix. A persisted key with an `agentId`
    /// but no `taskPrefix` is therefore treated as a project key.
    pub fn is_embed(&self) -> bool {
        (self.agent_id.is_some() || self.workforce_id.is_some()) && self.task_prefix.is_some()
    }

    /// The value of the `Authorization` header: `{project}:{key}`; only the
    /// request layer (`http`) sends it.
    pub(crate) fn authorization_header(&self) -> SecretString {
        SecretString::from(format!("{}:{}", self.project, self.secret.expose_secret()))
    }

    /// The persisted form, byte-compatible with the official
    /// client's `toJSON`: fields in the order `key`, `region` (the code),
    /// `project`, then `agentId`, `workforceId`, `taskPrefix` when present.
    ///
    /// The result holds the secret: store it where you would store the key.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        push_field(&mut out, "key", self.secret.expose_secret());
        push_field(&mut out, "region", self.region.code());
        push_field(&mut out, "project", &self.project);
        if let Some(agent_id) = &self.agent_id {
            push_field(&mut out, "agentId", agent_id);
        }
        if let Some(workforce_id) = &self.workforce_id {
            push_field(&mut out, "workforceId", workforce_id);
        }
        if let Some(task_prefix) = &self.task_prefix {
            push_field(&mut out, "taskPrefix", task_prefix);
        }
        out.push('}');
        out
    }

    /// Restores a key from its persisted form, without any network request.
    ///
    /// Unknown fields are ignored and `null` means absent. `region` may be a
    /// code or a short name (`us`); it is written back as the code. An empty
    /// optional field counts as absent, as the official client's truthiness
    /// test does.
    pub fn from_json(json: &str) -> Result<Key> {
        let value: Value =
            serde_json::from_str(json).map_err(|error| KeyDataError::InvalidJson {
                line: error.line(),
                column: error.column(),
            })?;
        let Value::Object(object) = value else {
            return Err(KeyDataError::NotAnObject.into());
        };
        let secret = required(&object, "key")?;
        let region_text = required(&object, "region")?;
        let region = region_text
            .parse::<Region>()
            .map_err(|_| KeyDataError::UnknownRegion {
                value: region_text.chars().take(40).collect(),
            })?;
        let project = required(&object, "project")?;
        let agent_id = optional(&object, "agentId")?;
        let workforce_id = optional(&object, "workforceId")?;
        let task_prefix = optional(&object, "taskPrefix")?;
        if agent_id.is_some() && workforce_id.is_some() {
            return Err(KeyDataError::ConflictingTargets.into());
        }
        Ok(Key {
            secret: SecretString::from(secret),
            region,
            project,
            agent_id,
            workforce_id,
            task_prefix,
        })
    }

    /// The secret as it may be shown: `…` and its last four characters when it is long
    /// enough for that to reveal nothing useful, `****` otherwise. For telling keys apart in a
    /// UI or a log; never the value.
    pub fn redacted_secret(&self) -> String {
        redact(self.secret.expose_secret())
    }

    fn kind(&self) -> &'static str {
        if self.is_embed() {
            "embed"
        } else {
            "api"
        }
    }
}

/// `…` and the last four characters of a long secret, so two keys can be told
/// apart in a log; a short secret shows nothing at all.
pub(crate) fn redact(secret: &str) -> String {
    let count = secret.chars().count();
    if count >= 16 {
        let tail: String = secret.chars().skip(count - 4).collect();
        format!("…{tail}")
    } else {
        "****".to_string()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kind", &self.kind())
            .field("secret", &self.redacted_secret())
            .field("region", &self.region)
            .field("project", &self.project)
            .field("scope", &self.scope())
            .field("task_prefix", &self.task_prefix)
            .finish()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = self.redacted_secret();
        match self.scope() {
            KeyScope::Project => write!(f, "API key {secret} for project {}", self.project)?,
            KeyScope::Agent(id) => write!(
                f,
                "embed key {secret} for agent {id} of project {}",
                self.project
            )?,
            KeyScope::Workforce(id) => write!(
                f,
                "embed key {secret} for workforce {id} of project {}",
                self.project
            )?,
        }
        write!(f, " in {}", self.region)
    }
}

fn non_empty(value: String, field: &'static str) -> Result<String> {
    if value.is_empty() {
        Err(KeyDataError::EmptyValue { field }.into())
    } else {
        Ok(value)
    }
}

fn push_field(out: &mut String, name: &str, value: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    out.push_str(&Value::from(value).to_string());
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required(object: &Map<String, Value>, field: &'static str) -> Result<String, Error> {
    match object.get(field) {
        None | Some(Value::Null) => Err(KeyDataError::MissingField { field }.into()),
        Some(Value::String(text)) if text.is_empty() => {
            Err(KeyDataError::EmptyField { field }.into())
        }
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(KeyDataError::WrongType {
            field,
            found: json_type(other),
        }
        .into()),
    }
}

fn optional(object: &Map<String, Value>, field: &'static str) -> Result<Option<String>, Error> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(KeyDataError::WrongType {
            field,
            found: json_type(other),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG_SECRET: &str = "sk-SUPERSECRETVALUE-do-not-leak-9f3k";

    #[test]
    fn official_fixtures_round_trip() {
        // (fixture, region, scope, is_embed, task prefix)
        let fixtures = [
            (
                r#"{"key":"test-key","region":"bcbe5a","project":"test-project"}"#,
                Region::US,
                KeyScope::Project,
                false,
                None,
            ),
            (
                r#"{"key":"embed-key","region":"d7b62b","project":"test-project","agentId":"agent-123","taskPrefix":"prefix-abc"}"#,
                Region::EU,
                KeyScope::Agent("agent-123".into()),
                true,
                Some("prefix-abc"),
            ),
            (
                r#"{"key":"embed-key","region":"bcbe5a","project":"test-project","workforceId":"workforce-456","taskPrefix":"prefix-xyz"}"#,
                Region::US,
                KeyScope::Workforce("workforce-456".into()),
                true,
                Some("prefix-xyz"),
            ),
        ];
        for (fixture, region, scope, is_embed, prefix) in fixtures {
            let key = Key::from_json(fixture).unwrap();
            assert_eq!(key.region(), region, "{fixture}");
            assert_eq!(key.project(), "test-project");
            assert_eq!(key.scope(), scope, "{fixture}");
            assert_eq!(key.is_embed(), is_embed, "{fixture}");
            assert_eq!(key.task_prefix(), prefix, "{fixture}");
            let written = key.to_json();
            let original: Value = serde_json::from_str(fixture).unwrap();
            let again: Value = serde_json::from_str(&written).unwrap();
            assert_eq!(again, original, "{fixture}");
            // Same field order as the official client (the fixtures are in it).
            assert_eq!(written, fixture);
            // And restoring the written form gives the same key again.
            assert_eq!(Key::from_json(&written).unwrap().to_json(), written);
        }
    }

    #[test]
    fn to_json_field_order_is_fixed() {
        let key = Key::embed(
            "s",
            Region::AU,
            "p",
            EmbedTarget::Workforce("w".into()),
            "x",
        )
        .unwrap();
        assert_eq!(
            key.to_json(),
            r#"{"key":"s","region":"f1db6c","project":"p","workforceId":"w","taskPrefix":"x"}"#
        );
    }

    #[test]
    fn to_json_escapes_strings() {
        let key = Key::new("a\"b\\c\u{1}", Region::US, "p\n").unwrap();
        let restored = Key::from_json(&key.to_json()).unwrap();
        assert_eq!(restored.secret.expose_secret(), "a\"b\\c\u{1}");
        assert_eq!(restored.project(), "p\n");
    }

    #[test]
    fn agent_id_without_task_prefix_is_not_an_embed_key() {
        let fixture = r#"{"key":"k","region":"bcbe5a","project":"p","agentId":"a1"}"#;
        let key = Key::from_json(fixture).unwrap();
        assert!(!key.is_embed());
        assert_eq!(key.scope(), KeyScope::Project);
        assert_eq!(key.agent_id(), Some("a1"));
        assert_eq!(key.to_json(), fixture);

        let prefix_only = r#"{"key":"k","region":"bcbe5a","project":"p","taskPrefix":"t"}"#;
        let key = Key::from_json(prefix_only).unwrap();
        assert!(!key.is_embed());
        assert_eq!(key.scope(), KeyScope::Project);
        assert_eq!(key.to_json(), prefix_only);
    }

    #[test]
    fn lenient_restore() {
        let cases = [
            (
                r#"{"key":"k","region":"us","project":"p","extra":[1,2]}"#,
                r#"{"key":"k","region":"bcbe5a","project":"p"}"#,
            ),
            (
                r#"{"key":"k","region":" EU ","project":"p","agentId":null,"workforceId":null,"taskPrefix":null}"#,
                r#"{"key":"k","region":"d7b62b","project":"p"}"#,
            ),
            (
                r#"{"project":"p","region":"f1db6c","key":"k","agentId":"a","taskPrefix":""}"#,
                r#"{"key":"k","region":"f1db6c","project":"p","agentId":"a"}"#,
            ),
            // A fourth region, as the official JS SDK persists it (PROTOCOL A1, A4).
            (
                r#"{"key":"e","region":"1e3042","project":"p","agentId":"a","taskPrefix":"x"}"#,
                r#"{"key":"e","region":"1e3042","project":"p","agentId":"a","taskPrefix":"x"}"#,
            ),
            (
                r#"{"key":"k","region":"1E3042","project":"p"}"#,
                r#"{"key":"k","region":"1e3042","project":"p"}"#,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Key::from_json(input).unwrap().to_json(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_persisted_keys_name_the_problem() {
        let cases = [
            ("{\"key\":", "persisted key: invalid JSON at line 1 column 7"),
            ("nope", "persisted key: invalid JSON at line 1 column 2"),
            ("", "persisted key: invalid JSON at line 1 column 0"),
            ("[1,2]", "persisted key: not a JSON object"),
            ("\"sk-abc\"", "persisted key: not a JSON object"),
            ("null", "persisted key: not a JSON object"),
            (r#"{"region":"bcbe5a","project":"p"}"#, "persisted key: missing field `key`"),
            (r#"{"key":null,"region":"bcbe5a","project":"p"}"#, "persisted key: missing field `key`"),
            (r#"{"key":"k","project":"p"}"#, "persisted key: missing field `region`"),
            (r#"{"key":"k","region":"bcbe5a"}"#, "persisted key: missing field `project`"),
            (r#"{"key":"","region":"bcbe5a","project":"p"}"#, "persisted key: field `key` is empty"),
            (r#"{"key":"k","region":"","project":"p"}"#, "persisted key: field `region` is empty"),
            (r#"{"key":"k","region":"bcbe5a","project":""}"#, "persisted key: field `project` is empty"),
            (r#"{"key":5,"region":"bcbe5a","project":"p"}"#, "persisted key: field `key`: expected a string, found a number"),
            (r#"{"key":"k","region":["us"],"project":"p"}"#, "persisted key: field `region`: expected a string, found an array"),
            (r#"{"key":"k","region":"bcbe5a","project":{}}"#, "persisted key: field `project`: expected a string, found an object"),
            (r#"{"key":"k","region":"bcbe5a","project":"p","agentId":7}"#, "persisted key: field `agentId`: expected a string, found a number"),
            (r#"{"key":"k","region":"bcbe5a","project":"p","taskPrefix":true}"#, "persisted key: field `taskPrefix`: expected a string, found a boolean"),
            (r#"{"key":"k","region":"zz","project":"p"}"#, "persisted key: field `region`: unknown region 'zz' (valid: a code of 6 lowercase hex characters such as bcbe5a (US), d7b62b (EU), f1db6c (AU), 1e3042; or us, eu, au)"),
            (r#"{"key":"k","region":"bcbe5a","project":"p","agentId":"a","workforceId":"w","taskPrefix":"t"}"#, "`agentId` and `workforceId` are both present"),
        ];
        for (input, expected) in cases {
            let error = Key::from_json(input).expect_err(input);
            assert!(matches!(error, Error::InvalidKey(_)), "{input}: {error:?}");
            let text = error.to_string();
            assert!(
                text.contains(expected),
                "{input}: got {text:?}, want {expected:?}"
            );
        }
    }

    #[test]
    fn malformed_key_errors_never_show_the_secret() {
        let inputs = [
            format!(r#"{{"key":"{LONG_SECRET}","region":"zz","project":"p"}}"#),
            format!(r#"{{"key":"{LONG_SECRET}","region":"bcbe5a"}}"#),
            format!(r#"{{"key":"{LONG_SECRET}","region":"bcbe5a","project":"p""#),
        ];
        for input in inputs {
            let error = Key::from_json(&input).expect_err(&input);
            assert!(!error.to_string().contains("SUPERSECRET"));
            assert!(!format!("{error:?}").contains("SUPERSECRET"));
        }
    }

    #[test]
    fn constructors_refuse_empty_values() {
        let cases: [(Result<Key>, &str); 5] = [
            (Key::new("", Region::US, "p"), "secret"),
            (Key::new("k", Region::US, ""), "project"),
            (
                Key::embed("k", Region::US, "p", EmbedTarget::Agent("".into()), "t"),
                "agent id",
            ),
            (
                Key::embed("k", Region::US, "p", EmbedTarget::Workforce("".into()), "t"),
                "workforce id",
            ),
            (
                Key::embed("k", Region::US, "p", EmbedTarget::Agent("a".into()), ""),
                "task prefix",
            ),
        ];
        for (result, field) in cases {
            match result {
                Err(Error::InvalidKey(KeyDataError::EmptyValue { field: got })) => {
                    assert_eq!(got, field)
                }
                other => panic!("{field}: expected EmptyValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn scope_and_accessors() {
        let api = Key::new("k", Region::EU, "p").unwrap();
        assert_eq!(api.scope(), KeyScope::Project);
        assert!(!api.is_embed());
        assert_eq!(api.authorization_header().expose_secret(), "p:k");
        let embed = Key::embed("k", Region::EU, "p", EmbedTarget::Agent("a".into()), "t").unwrap();
        assert_eq!(embed.scope(), KeyScope::Agent("a".into()));
        assert_eq!(embed.agent_id(), Some("a"));
        assert_eq!(embed.workforce_id(), None);
        assert_eq!(embed.task_prefix(), Some("t"));
        assert!(embed.is_embed());
    }

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let api = Key::new(LONG_SECRET, Region::US, "proj-1").unwrap();
        let embed = Key::embed(
            LONG_SECRET,
            Region::EU,
            "proj-1",
            EmbedTarget::Agent("agent-9".into()),
            "pfx",
        )
        .unwrap();
        for key in [&api, &embed] {
            for text in [format!("{key:?}"), format!("{key:#?}"), key.to_string()] {
                assert!(!text.contains("SUPERSECRET"), "{text}");
                assert!(!text.contains(LONG_SECRET), "{text}");
                assert!(text.contains("…9f3k"), "{text}");
                assert!(text.contains("proj-1"), "{text}");
            }
        }
        assert_eq!(
            api.to_string(),
            "API key …9f3k for project proj-1 in US (bcbe5a)"
        );
        assert_eq!(
            embed.to_string(),
            "embed key …9f3k for agent agent-9 of project proj-1 in EU (d7b62b)"
        );
        let debug = format!("{embed:?}");
        assert!(debug.contains("\"embed\"") && debug.contains("pfx") && debug.contains("agent-9"));
    }

    #[test]
    fn redaction_table() {
        let cases = [
            ("", "****"),
            ("short", "****"),
            ("fifteen-chars-x", "****"),
            ("sixteen-chars-xy", "…s-xy"),
            ("ééééééééééééébcd", "…ébcd"),
        ];
        for (secret, expected) in cases {
            assert_eq!(redact(secret), expected, "{secret}");
        }
        let short = Key::new("sk-short", Region::US, "p").unwrap();
        assert!(!format!("{short:?}").contains("sk-short"));
        assert!(!short.to_string().contains("hort"));
    }
}
