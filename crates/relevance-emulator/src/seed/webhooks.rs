//! The seed's `[[projects.agents.webhooks]]`: webhook triggers of an agent.
//!
//! A webhook's id becomes the last segment of its URL, so it follows the id rules and is
//! unique within its project; its template and field paths must parse (the same parser
//! the route renders with, so a seed that loads never fails at the first event).

use std::collections::HashSet;

use toml::Spanned;

use super::check::Checker;
use super::file::WebhookEntry;
use super::SeedProblem;
use crate::engine::webhook_template::{FieldPath, MessageTemplate};
use crate::store::webhooks::WebhookSpec;

/// The shortest id a seed may give a webhook: the id is the URL's only secret.
const MIN_ID_CHARS: usize = 6;

impl Checker<'_> {
    /// An agent's webhooks, in seed order; `ids` holds the project's webhook ids so far.
    pub(super) fn webhooks(
        &self,
        agent_id: &str,
        entries: Vec<Spanned<WebhookEntry>>,
        ids: &mut HashSet<String>,
    ) -> Result<Vec<WebhookSpec>, SeedProblem> {
        let mut webhooks = Vec::new();
        for (position, entry) in entries.into_iter().enumerate() {
            let entry = entry.into_inner();
            let id = match &entry.id {
                Some(id) => Some(self.webhook_id(id, ids)?),
                None => None,
            };
            MessageTemplate::parse(entry.message_template.get_ref()).map_err(|problem| {
                self.problem(
                    &entry.message_template,
                    format!("webhook of agent {agent_id:?}: message_template: {problem}"),
                )
            })?;
            webhooks.push(WebhookSpec {
                agent_id: agent_id.to_string(),
                id,
                position,
                name: entry.name,
                message_template: entry.message_template.into_inner(),
                thread_id_field: self.field_path("thread_id_field", entry.thread_id_field)?,
                unique_id_field: self.field_path("unique_id_field", entry.unique_id_field)?,
            });
        }
        Ok(webhooks)
    }

    fn webhook_id(
        &self,
        id: &Spanned<String>,
        ids: &mut HashSet<String>,
    ) -> Result<String, SeedProblem> {
        let value = self.id("webhook", id)?;
        if value.chars().count() < MIN_ID_CHARS {
            return Err(self.problem(
                id,
                format!(
                    "webhook id {value:?} is shorter than {MIN_ID_CHARS} characters: the id is \
                     the secret part of the webhook URL (leave it out and one is made up)"
                ),
            ));
        }
        if !ids.insert(value.clone()) {
            return Err(self.problem(
                id,
                format!("duplicate webhook id {value:?} in this project"),
            ));
        }
        Ok(value)
    }

    fn field_path(
        &self,
        what: &str,
        path: Option<Spanned<String>>,
    ) -> Result<Option<String>, SeedProblem> {
        let Some(path) = path else {
            return Ok(None);
        };
        FieldPath::parse(path.get_ref())
            .map_err(|problem| self.problem(&path, format!("{what}: {problem}")))?;
        Ok(Some(path.into_inner().trim().to_string()))
    }
}
