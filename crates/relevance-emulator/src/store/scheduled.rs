//! Messages scheduled for later (PROTOCOL A11): one row per scheduled trigger until the
//! engine sends it. The due time is an absolute instant in milliseconds, so a restarted
//! emulator sends each one once it is due (at once when it fell due while stopped).

use rusqlite::{params, Connection, OptionalExtension};

/// A message to send to an agent task at `due_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScheduledTrigger {
    /// The `trigger_id` the create answered with.
    pub(crate) id: String,
    pub(crate) project: String,
    pub(crate) task_id: String,
    pub(crate) message: String,
    pub(crate) due_at_ms: i64,
    pub(crate) created_at: String,
}

/// Stores a scheduled trigger.
pub(crate) fn insert(connection: &Connection, trigger: &ScheduledTrigger) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO scheduled_triggers (id, project_id, task_id, message, due_at_ms, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            trigger.id,
            trigger.project,
            trigger.task_id,
            trigger.message,
            trigger.due_at_ms,
            trigger.created_at
        ],
    )?;
    Ok(())
}

/// The earliest due time of any scheduled trigger.
pub(crate) fn next_due(connection: &Connection) -> rusqlite::Result<Option<i64>> {
    connection.query_row("SELECT MIN(due_at_ms) FROM scheduled_triggers", [], |row| {
        row.get(0)
    })
}

/// The trigger due soonest, if it is due by `now_ms` (the oldest first among equals).
pub(crate) fn first_due(
    connection: &Connection,
    now_ms: i64,
) -> rusqlite::Result<Option<ScheduledTrigger>> {
    connection
        .query_row(
            "SELECT id, project_id, task_id, message, due_at_ms, created_at
             FROM scheduled_triggers WHERE due_at_ms <= ?1
             ORDER BY due_at_ms, created_at, id LIMIT 1",
            [now_ms],
            |row| {
                Ok(ScheduledTrigger {
                    id: row.get(0)?,
                    project: row.get(1)?,
                    task_id: row.get(2)?,
                    message: row.get(3)?,
                    due_at_ms: row.get(4)?,
                    created_at: row.get(5)?,
                })
            },
        )
        .optional()
}

/// Removes a trigger (sent, or its task is gone).
pub(crate) fn delete(connection: &Connection, id: &str) -> rusqlite::Result<()> {
    connection.execute("DELETE FROM scheduled_triggers WHERE id = ?1", [id])?;
    Ok(())
}

/// Removes every trigger of a task (the task is being deleted).
pub(crate) fn delete_for_task(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "DELETE FROM scheduled_triggers WHERE project_id = ?1 AND task_id = ?2",
        params![project, task_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_due_trigger_comes_first_and_later_ones_wait() {
        let mut connection = Connection::open_in_memory().expect("in-memory database");
        super::super::schema::migrate(&mut connection).expect("schema");
        let trigger = |id: &str, due| ScheduledTrigger {
            id: id.to_string(),
            project: "p".to_string(),
            task_id: "t".to_string(),
            message: format!("message {id}"),
            due_at_ms: due,
            created_at: "2026-01-01T00:00:00.000Z".to_string(),
        };
        insert(&connection, &trigger("late", 200)).expect("insert");
        insert(&connection, &trigger("soon", 100)).expect("insert");
        assert_eq!(next_due(&connection).expect("next"), Some(100));
        assert_eq!(first_due(&connection, 99).expect("none yet"), None);
        assert_eq!(
            first_due(&connection, 150).expect("due"),
            Some(trigger("soon", 100))
        );
        delete(&connection, "soon").expect("delete");
        assert_eq!(next_due(&connection).expect("next"), Some(200));
        delete_for_task(&connection, "p", "t").expect("delete all");
        assert_eq!(next_due(&connection).expect("next"), None);
    }
}
