//! Webhook triggers of agents (seed `[[projects.agents.webhooks]]`), the conversation each
//! thread id value went to, and the unique ids already seen.
//!
//! A webhook's id is the secret part of its URL, so nothing here logs it; the dashboard
//! shows it only to the operator, on the agent's page.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A webhook trigger as the seed declares it; `id: None` asks the emulator to make one up
/// (kept across restarts at the same `position` of the same agent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct WebhookSpec {
    pub(crate) agent_id: String,
    pub(crate) id: Option<String>,
    /// The webhook's place among its agent's webhooks in the seed.
    pub(crate) position: usize,
    pub(crate) name: Option<String>,
    pub(crate) message_template: String,
    pub(crate) thread_id_field: Option<String>,
    pub(crate) unique_id_field: Option<String>,
}

/// A stored webhook trigger.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct WebhookRecord {
    pub(crate) project: String,
    /// The `{trigger_id}` of the URL: the secret.
    pub(crate) id: String,
    pub(crate) agent_id: String,
    pub(crate) name: Option<String>,
    pub(crate) message_template: String,
    pub(crate) thread_id_field: Option<String>,
    pub(crate) unique_id_field: Option<String>,
}

impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRecord")
            .field("project", &self.project)
            .field("agent_id", &self.agent_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "project_id, id, agent_id, name, message_template, thread_id_field, unique_id_field";

fn record(row: &Row<'_>) -> rusqlite::Result<WebhookRecord> {
    Ok(WebhookRecord {
        project: row.get(0)?,
        id: row.get(1)?,
        agent_id: row.get(2)?,
        name: row.get(3)?,
        message_template: row.get(4)?,
        thread_id_field: row.get(5)?,
        unique_id_field: row.get(6)?,
    })
}

/// Writes a project's seeded webhooks: an id the seed gives is upserted by that id; a
/// missing one is the id made up earlier for the same agent and position, or a new one.
pub(crate) fn apply_seeded(
    connection: &Connection,
    project: &str,
    webhooks: &[WebhookSpec],
    now: &str,
) -> rusqlite::Result<()> {
    for webhook in webhooks {
        let position = i64::try_from(webhook.position).unwrap_or(i64::MAX);
        let (id, generated_at) = match &webhook.id {
            Some(id) => (id.clone(), None),
            None => (
                generated_id(connection, project, &webhook.agent_id, position)?
                    .unwrap_or_else(new_trigger_id),
                Some(position),
            ),
        };
        connection.execute(
            "INSERT INTO webhooks (project_id, id, agent_id, name, message_template,
                                   thread_id_field, unique_id_field, position, generated_at,
                                   insert_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?10, ?8, ?9)
             ON CONFLICT (project_id, id) DO UPDATE SET
                agent_id = excluded.agent_id, name = excluded.name,
                message_template = excluded.message_template,
                thread_id_field = excluded.thread_id_field,
                unique_id_field = excluded.unique_id_field,
                position = excluded.position, generated_at = excluded.generated_at",
            params![
                project,
                id,
                webhook.agent_id,
                webhook.name,
                webhook.message_template,
                webhook.thread_id_field,
                webhook.unique_id_field,
                generated_at,
                now,
                position
            ],
        )?;
    }
    Ok(())
}

/// The id made up earlier for the webhook at `position` of `agent_id`, if any.
fn generated_id(
    connection: &Connection,
    project: &str,
    agent_id: &str,
    position: i64,
) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(
            "SELECT id FROM webhooks
             WHERE project_id = ?1 AND agent_id = ?2 AND generated_at = ?3",
            params![project, agent_id, position],
            |row| row.get(0),
        )
        .optional()
}

/// A new unguessable trigger id: 128 bits from the OS random source, as hex.
fn new_trigger_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The webhook `id` of `project`, if there is one.
pub(crate) fn find(
    connection: &Connection,
    project: &str,
    id: &str,
) -> rusqlite::Result<Option<WebhookRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM webhooks WHERE project_id = ?1 AND id = ?2"),
            params![project, id],
            record,
        )
        .optional()
}

/// An agent's webhooks, in seed order.
pub(crate) fn for_agent(
    connection: &Connection,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<Vec<WebhookRecord>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE project_id = ?1 AND agent_id = ?2
         ORDER BY position, id"
    ))?;
    let rows = statement.query_map(params![project, agent_id], record)?;
    rows.collect()
}

/// The task a thread id value of a webhook went to before, if any.
pub(crate) fn thread_task(
    connection: &Connection,
    webhook: &WebhookRecord,
    thread_value: &str,
) -> rusqlite::Result<Option<String>> {
    task_of(
        connection,
        "SELECT task_id FROM webhook_threads
         WHERE project_id = ?1 AND webhook_id = ?2 AND thread_value = ?3",
        webhook,
        thread_value,
    )
}

/// The one `task_id` that `query` finds for a webhook and a value.
fn task_of(
    connection: &Connection,
    query: &str,
    webhook: &WebhookRecord,
    value: &str,
) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(query, params![webhook.project, webhook.id, value], |row| {
            row.get(0)
        })
        .optional()
}

/// Records (or moves, when its task is gone) the task of a thread id value.
pub(crate) fn set_thread_task(
    connection: &Connection,
    webhook: &WebhookRecord,
    thread_value: &str,
    task_id: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO webhook_threads (project_id, webhook_id, thread_value, task_id)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project_id, webhook_id, thread_value) DO UPDATE SET task_id = excluded.task_id",
        params![webhook.project, webhook.id, thread_value, task_id],
    )?;
    Ok(())
}

/// The task an event with this unique id went to, if it was seen before.
pub(crate) fn seen_event(
    connection: &Connection,
    webhook: &WebhookRecord,
    unique_value: &str,
) -> rusqlite::Result<Option<String>> {
    task_of(
        connection,
        "SELECT task_id FROM webhook_events
         WHERE project_id = ?1 AND webhook_id = ?2 AND unique_value = ?3",
        webhook,
        unique_value,
    )
}

/// Remembers an event's unique id and the task it went to.
pub(crate) fn record_event(
    connection: &Connection,
    webhook: &WebhookRecord,
    unique_value: &str,
    task_id: &str,
    received_ms: i64,
) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO webhook_events (project_id, webhook_id, unique_value, task_id, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            webhook.project,
            webhook.id,
            unique_value,
            task_id,
            received_ms
        ],
    )?;
    Ok(())
}
