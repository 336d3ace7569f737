//! Schema migrations, applied in order and recorded in `schema_version`.
//!
//! A migration is never edited once released: add a new one instead, so a
//! data directory from an older emulator upgrades in place.

use rusqlite::Connection;

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: projects, keys, agents, workforces.
    "
    CREATE TABLE projects (
        id          TEXT PRIMARY KEY NOT NULL,
        region      TEXT NOT NULL
    );
    CREATE TABLE agents (
        project_id  TEXT NOT NULL REFERENCES projects(id),
        id          TEXT NOT NULL,
        name        TEXT,
        description TEXT,
        emoji       TEXT,
        public      INTEGER NOT NULL,
        model       TEXT NOT NULL,
        behavior    TEXT NOT NULL,
        insert_date TEXT NOT NULL,
        update_date TEXT NOT NULL,
        PRIMARY KEY (project_id, id)
    );
    CREATE TABLE workforces (
        project_id  TEXT NOT NULL REFERENCES projects(id),
        id          TEXT NOT NULL,
        name        TEXT NOT NULL,
        insert_date TEXT NOT NULL,
        update_date TEXT NOT NULL,
        PRIMARY KEY (project_id, id)
    );
    CREATE TABLE workforce_members (
        project_id   TEXT NOT NULL,
        workforce_id TEXT NOT NULL,
        position     INTEGER NOT NULL,
        agent_id     TEXT NOT NULL,
        PRIMARY KEY (project_id, workforce_id, position),
        FOREIGN KEY (project_id, workforce_id) REFERENCES workforces(project_id, id),
        FOREIGN KEY (project_id, agent_id) REFERENCES agents(project_id, id)
    );
    CREATE TABLE keys (
        id            TEXT PRIMARY KEY NOT NULL,
        project_id    TEXT NOT NULL REFERENCES projects(id),
        kind          TEXT NOT NULL CHECK (kind IN ('api', 'embed')),
        sha256        TEXT NOT NULL UNIQUE,
        hint          TEXT NOT NULL,
        label         TEXT,
        agent_id      TEXT,
        workforce_id  TEXT,
        task_prefix   TEXT,
        created_at    TEXT NOT NULL,
        last_used_at  TEXT,
        revoked_at    TEXT,
        request_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX keys_by_project ON keys(project_id, created_at);
    ",
    // 2: agent behaviour settings, tasks, messages, files, the engine's pending runs.
    "
    ALTER TABLE agents ADD COLUMN behavior_config TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE tasks (
        project_id        TEXT NOT NULL REFERENCES projects(id),
        id                TEXT NOT NULL,
        agent_id          TEXT NOT NULL,
        created_by_key_id TEXT NOT NULL,
        task_prefix       TEXT,
        title             TEXT NOT NULL,
        state             TEXT NOT NULL,
        insert_date       TEXT NOT NULL,
        update_date       TEXT NOT NULL,
        PRIMARY KEY (project_id, id)
    );
    CREATE INDEX tasks_by_agent ON tasks(project_id, agent_id, task_prefix);
    CREATE TABLE messages (
        item_id      TEXT PRIMARY KEY NOT NULL,
        project_id   TEXT NOT NULL,
        task_id      TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        insert_ms    INTEGER NOT NULL,
        insert_date_ TEXT NOT NULL,
        content      TEXT NOT NULL,
        update_date  TEXT NOT NULL,
        UNIQUE (project_id, task_id, seq),
        FOREIGN KEY (project_id, task_id) REFERENCES tasks(project_id, id)
    );
    CREATE TABLE files (
        id          TEXT PRIMARY KEY NOT NULL,
        project_id  TEXT NOT NULL REFERENCES projects(id),
        sig_hash    TEXT NOT NULL,
        file_name   TEXT NOT NULL,
        extension   TEXT NOT NULL,
        bytes       BLOB,
        created_at  TEXT NOT NULL,
        uploaded_at TEXT
    );
    CREATE TABLE runs (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id     TEXT NOT NULL,
        task_id        TEXT NOT NULL,
        program        TEXT NOT NULL,
        end_state      TEXT NOT NULL,
        chunk_delay_ms INTEGER NOT NULL,
        step_index     INTEGER NOT NULL DEFAULT 0,
        phase          INTEGER NOT NULL DEFAULT 0,
        progress       TEXT NOT NULL DEFAULT '{}',
        status         TEXT NOT NULL
                       CHECK (status IN ('queued', 'due', 'awaiting-approval', 'awaiting-sub-agent')),
        due_at_ms      INTEGER,
        parent_run_id  INTEGER,
        FOREIGN KEY (project_id, task_id) REFERENCES tasks(project_id, id)
    );
    CREATE INDEX runs_by_due ON runs(due_at_ms) WHERE due_at_ms IS NOT NULL;
    CREATE INDEX runs_by_task ON runs(project_id, task_id, id);
    ",
    // 3: workforce tasks (rows of `tasks` with a `workforce_id`) and workforce execution limits.
    "
    ALTER TABLE tasks ADD COLUMN workforce_id TEXT;
    CREATE INDEX tasks_by_workforce ON tasks(project_id, workforce_id, insert_date);
    ALTER TABLE workforces ADD COLUMN execution_limit INTEGER NOT NULL DEFAULT 10;
    ",
    // 4: `use_streaming` (PROTOCOL A8b): the agent's own setting, off as on the platform, and
    // each run's decision, made when it was triggered. Runs already stored were triggered
    // when every run streamed, so they keep streaming.
    "
    ALTER TABLE agents ADD COLUMN use_streaming INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN streams INTEGER NOT NULL DEFAULT 1;
    ",
];

/// Brings the schema to the newest version; a no-op when it is already there.
pub(crate) fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    transaction
        .execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")?;
    let current: Option<i64> =
        transaction.query_row("SELECT MAX(version) FROM schema_version", [], |row| {
            row.get(0)
        })?;
    let current = usize::try_from(current.unwrap_or(0)).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current) {
        transaction.execute_batch(migration)?;
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        transaction.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version],
        )?;
    }
    transaction.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut connection = Connection::open_in_memory().expect("in-memory database opens");
        migrate(&mut connection).expect("first migration");
        migrate(&mut connection).expect("second migration");
        let versions: i64 = connection
            .query_row("SELECT COUNT(*) FROM schema_version", [], |row| row.get(0))
            .expect("count");
        assert_eq!(versions, MIGRATIONS.len() as i64);
    }
}
