//! Schema migrations, applied in order and recorded in `schema_version`.
//!
//! A migration is never edited once released: add a new one instead, so a
//! data directory from an older emulator upgrades in place.

use rusqlite::Connection;

/// A fresh UUID v4 in SQL, evaluated anew for every row and every use (as
/// `engine::new_item_id` makes them in Rust).
macro_rules! fresh_id {
    () => {
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || \
         substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || \
         substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    };
}

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
    // 5: the platform's message schema (PROTOCOL A7c) for messages stored before the engine
    // wrote it: tool runs get `tool_config.version`, `action_details` (the same stable
    // action id as `engine::ids::action_id`, a fresh request id), `requires_confirmation`
    // and `params.json`; every message gets `original_message_ids` with a fresh id under
    // its type's key (`engine::ids::origin_key`), and a finished / failed tool run its
    // `action-response` / `action-error`. Messages that already have the fields are left
    // alone, and so is content that is not a JSON object with a `type`.
    concat!(
        "
    UPDATE messages SET content = json_set(content,
        '$.tool_config.version', 'latest',
        '$.requires_confirmation', json('false'),
        '$.action_details', json_object(
            'action',
            coalesce((SELECT agent_id FROM tasks
                      WHERE tasks.project_id = messages.project_id
                        AND tasks.id = messages.task_id), '')
                || ':' || coalesce(json_extract(content, '$.tool_config.type'), 'tool')
                || ':' || coalesce(json_extract(content, '$.tool_config.id'), ''),
            'action_request_id', ",
        fresh_id!(),
        "),
        '$.params', json_object(
            'valid', json('true'),
            'json', json(coalesce(json_extract(content, '$.params.resolved'), '{}')),
            'resolved', json(coalesce(json_extract(content, '$.params.resolved'), '{}'))))
    WHERE json_valid(content) AND json_extract(content, '$.type') = 'tool-run'
      AND json_type(content, '$.action_details') IS NULL;
    UPDATE messages SET content = json_set(content, '$.original_message_ids', json_object(
        CASE json_extract(content, '$.type')
            WHEN 'user-message' THEN 'user'
            WHEN 'agent-message' THEN 'agent'
            WHEN 'tool-run' THEN 'action-request'
            ELSE json_extract(content, '$.type')
        END, ",
        fresh_id!(),
        "))
    WHERE json_valid(content) AND json_type(content, '$.type') = 'text'
      AND json_type(content, '$.original_message_ids') IS NULL;
    UPDATE messages
    SET content = json_set(content, '$.original_message_ids.\"action-response\"', ",
        fresh_id!(),
        ")
    WHERE json_valid(content) AND json_extract(content, '$.type') = 'tool-run'
      AND json_extract(content, '$.tool_run_state') = 'finished'
      AND json_type(content, '$.original_message_ids.\"action-response\"') IS NULL;
    UPDATE messages
    SET content = json_set(content, '$.original_message_ids.\"action-error\"', ",
        fresh_id!(),
        ")
    WHERE json_valid(content) AND json_extract(content, '$.type') = 'tool-run'
      AND json_extract(content, '$.tool_run_state') = 'error'
      AND json_type(content, '$.original_message_ids.\"action-error\"') IS NULL;
    "
    ),
    // 6: the media type a file's `PUT` named in its `Content-Type` (PROTOCOL A9), served
    // back with the file; NULL (older uploads, or none named) serves by extension.
    "
    ALTER TABLE files ADD COLUMN media_type TEXT;
    ",
    // 7: tools (PROTOCOL A12: the Tool's fields as a JSON document, the emulator's own
    // behaviour beside it), the tools each agent may use, the agent fields only the API
    // sets (`system_prompt`, `temperature`, ... as JSON), and what the seed last applied
    // to each object, so a restart with an unchanged seed leaves API edits alone.
    "
    CREATE TABLE tools (
        project_id  TEXT NOT NULL REFERENCES projects(id),
        id          TEXT NOT NULL,
        document    TEXT NOT NULL,
        behavior    TEXT NOT NULL DEFAULT '{}',
        insert_date TEXT NOT NULL,
        update_date TEXT NOT NULL,
        PRIMARY KEY (project_id, id)
    );
    ALTER TABLE agents ADD COLUMN tool_ids TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE agents ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE seed_marks (
        project_id TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('agent', 'tool')),
        id         TEXT NOT NULL,
        spec       TEXT NOT NULL,
        PRIMARY KEY (project_id, kind, id)
    );
    ",
    // 8: messages scheduled for later (PROTOCOL A11 `scheduled_triggers_item/create`): the
    // due time is stored, so a restarted emulator still sends them.
    "
    CREATE TABLE scheduled_triggers (
        id          TEXT PRIMARY KEY NOT NULL,
        project_id  TEXT NOT NULL,
        task_id     TEXT NOT NULL,
        message     TEXT NOT NULL,
        due_at_ms   INTEGER NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX scheduled_triggers_by_due ON scheduled_triggers(due_at_ms);
    CREATE INDEX scheduled_triggers_by_task ON scheduled_triggers(project_id, task_id);
    ",
    // 9: what a trigger sets on its task (PROTOCOL A17): the last trigger's `params` (JSON,
    // the conversation's `params_from_previous_trigger`), the caller's `external_id` (one
    // task per id within a key's scope) and the agent `version` asked for.
    "
    ALTER TABLE tasks ADD COLUMN params TEXT;
    ALTER TABLE tasks ADD COLUMN external_id TEXT;
    ALTER TABLE tasks ADD COLUMN version TEXT;
    CREATE UNIQUE INDEX tasks_by_external_id
        ON tasks(project_id, agent_id, ifnull(task_prefix, ''), external_id)
        WHERE external_id IS NOT NULL;
    ",
    // 10: jobs (PROTOCOL A15): a tool run started with `trigger_async`, or one run of an
    // agent (every trigger answer's `job_info`), and the updates a poll reads, numbered.
    "
    CREATE TABLE jobs (
        project_id  TEXT NOT NULL,
        id          TEXT NOT NULL,
        studio_id   TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('tool', 'agent')),
        task_id     TEXT,
        run_id      INTEGER,
        state       TEXT NOT NULL CHECK (state IN ('inprogress', 'complete', 'failed', 'cancelled')),
        params      TEXT,
        insert_ms   INTEGER NOT NULL,
        ended_ms    INTEGER,
        PRIMARY KEY (project_id, id)
    );
    CREATE INDEX jobs_by_run ON jobs(project_id, run_id) WHERE run_id IS NOT NULL;
    CREATE INDEX jobs_by_task ON jobs(project_id, task_id) WHERE task_id IS NOT NULL;
    CREATE INDEX jobs_by_studio ON jobs(project_id, studio_id, insert_ms);
    CREATE TABLE job_updates (
        project_id TEXT NOT NULL,
        job_id     TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        body       TEXT NOT NULL,
        PRIMARY KEY (project_id, job_id, seq)
    );
    ",
    // 11: knowledge sets (PROTOCOL A16): a project's tables and their rows, each row's
    // `data` a JSON object. `seq` is the insertion order (the `insert_date_` sort, stable
    // when many rows share a millisecond); `row_count` is kept with every write, so a
    // count is one read, not a scan of the set. Conversations are not stored here: they are
    // read from `tasks` and `messages`.
    "
    CREATE TABLE knowledge_sets (
        project_id  TEXT NOT NULL REFERENCES projects(id),
        name        TEXT NOT NULL,
        id          TEXT NOT NULL,
        insert_date TEXT NOT NULL,
        update_date TEXT NOT NULL,
        row_count   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, name)
    );
    CREATE TABLE knowledge_rows (
        seq           INTEGER PRIMARY KEY,
        project_id    TEXT NOT NULL,
        knowledge_set TEXT NOT NULL,
        document_id   TEXT NOT NULL,
        data          TEXT NOT NULL,
        insert_date   TEXT NOT NULL,
        update_date   TEXT NOT NULL,
        UNIQUE (project_id, knowledge_set, document_id),
        FOREIGN KEY (project_id, knowledge_set) REFERENCES knowledge_sets(project_id, name)
    );
    CREATE INDEX knowledge_rows_in_order ON knowledge_rows(project_id, knowledge_set, seq);
    ",
    // 12: webhook triggers of agents (seed `[[projects.agents.webhooks]]`). `id` is the
    // `{trigger_id}` of the URL; `position` its place among its agent's; `generated_at` is the seed position of an id the emulator
    // made up (kept across restarts, so a webhook URL stays the same), NULL for an id the
    // seed gave. `webhook_threads` maps a thread id value to its task; `webhook_events` keeps
    // the unique ids already seen (a repeat is ignored) and the task each one went to.
    "
    CREATE TABLE webhooks (
        project_id       TEXT NOT NULL REFERENCES projects(id),
        id               TEXT NOT NULL,
        agent_id         TEXT NOT NULL,
        name             TEXT,
        message_template TEXT NOT NULL,
        thread_id_field  TEXT,
        unique_id_field  TEXT,
        position         INTEGER NOT NULL,
        generated_at     INTEGER,
        insert_date      TEXT NOT NULL,
        PRIMARY KEY (project_id, id)
    );
    CREATE UNIQUE INDEX webhooks_generated
        ON webhooks(project_id, agent_id, generated_at) WHERE generated_at IS NOT NULL;
    CREATE TABLE webhook_threads (
        project_id   TEXT NOT NULL,
        webhook_id   TEXT NOT NULL,
        thread_value TEXT NOT NULL,
        task_id      TEXT NOT NULL,
        PRIMARY KEY (project_id, webhook_id, thread_value)
    );
    CREATE TABLE webhook_events (
        project_id   TEXT NOT NULL,
        webhook_id   TEXT NOT NULL,
        unique_value TEXT NOT NULL,
        task_id      TEXT NOT NULL,
        received_ms  INTEGER NOT NULL,
        PRIMARY KEY (project_id, webhook_id, unique_value)
    );
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

    /// Migration 5 gives messages stored by an older emulator the platform's schema.
    #[test]
    fn older_messages_are_backfilled_with_the_platforms_message_fields() {
        let mut connection = Connection::open_in_memory().expect("in-memory database opens");
        let transaction = connection.transaction().expect("transaction");
        transaction
            .execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL);")
            .expect("version table");
        for (index, migration) in MIGRATIONS.iter().take(4).enumerate() {
            transaction
                .execute_batch(migration)
                .expect("older migration");
            transaction
                .execute(
                    "INSERT INTO schema_version (version) VALUES (?1)",
                    [index + 1],
                )
                .expect("version");
        }
        transaction
            .execute_batch(
                "INSERT INTO projects VALUES ('p', 'bcbe5a');
                 INSERT INTO tasks (project_id, id, agent_id, created_by_key_id, title, state,
                                    insert_date, update_date)
                 VALUES ('p', 't', 'boss', 'k', 'x', 'idle', 'd', 'd');",
            )
            .expect("a task");
        let old = [
            r#"{"type":"user-message","text":"hi","is_trigger_message":true}"#,
            r#"{"type":"agent-message","text":"yo","generating":false}"#,
            r#"{"type":"agent-error","errors":[{"body":"x"}]}"#,
            r#"{"type":"tool-run","tool_run_state":"finished","output":{},"errors":[],
                "params":{"resolved":{"q":"rust"},"valid":true},
                "tool_config":{"type":"tool","id":"search","title":"search"}}"#,
            r#"{"type":"tool-run","tool_run_state":"error","output":{},"errors":[],
                "params":{"resolved":{"message":"m"},"valid":true},
                "tool_config":{"type":"agent","id":"helper","title":"Helper"}}"#,
            r#"{"type":"workforce-agent-run","task_details":{}}"#,
            r#"not json"#,
        ];
        for (seq, content) in old.iter().enumerate() {
            transaction
                .execute(
                    "INSERT INTO messages (item_id, project_id, task_id, seq, insert_ms,
                                           insert_date_, content, update_date)
                     VALUES (?1, 'p', 't', ?2, 0, 'd', ?3, 'd')",
                    rusqlite::params![format!("m{seq}"), seq, content],
                )
                .expect("an old message");
        }
        transaction.commit().expect("commit");
        migrate(&mut connection).expect("upgrade");

        let content = |id: &str| -> serde_json::Value {
            let text: String = connection
                .query_row(
                    "SELECT content FROM messages WHERE item_id = ?1",
                    [id],
                    |row| row.get(0),
                )
                .expect("message");
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
        };
        let id_keys = |id: &str| -> Vec<String> {
            let ids = content(id)["original_message_ids"].clone();
            let ids = ids.as_object().expect("original_message_ids");
            assert!(ids
                .values()
                .all(|v| v.as_str().is_some_and(|s| s.len() == 36)));
            ids.keys().cloned().collect()
        };
        assert_eq!(id_keys("m0"), ["user"]);
        assert_eq!(id_keys("m1"), ["agent"]);
        assert_eq!(id_keys("m2"), ["agent-error"]);
        assert_eq!(id_keys("m3"), ["action-request", "action-response"]);
        assert_eq!(id_keys("m4"), ["action-error", "action-request"]);
        assert_eq!(id_keys("m5"), ["workforce-agent-run"]);
        let search = content("m3");
        assert_eq!(search["action_details"]["action"], "boss:tool:search");
        assert_eq!(
            search["action_details"]["action_request_id"]
                .as_str()
                .map(str::len),
            Some(36)
        );
        assert_eq!(search["requires_confirmation"], false);
        assert_eq!(search["tool_config"]["version"], "latest");
        assert_eq!(
            search["params"],
            serde_json::json!({"valid": true, "json": {"q": "rust"}, "resolved": {"q": "rust"}})
        );
        assert_eq!(
            content("m4")["action_details"]["action"],
            "boss:agent:helper"
        );
        let user = content("m0");
        assert_eq!(user["text"], "hi", "the rest of the message is kept");
        let text: String = connection
            .query_row(
                "SELECT content FROM messages WHERE item_id = 'm6'",
                [],
                |row| row.get(0),
            )
            .expect("message");
        assert_eq!(text, "not json", "content that is not JSON is left alone");
        // The ids are fresh: no two messages share one.
        let first = content("m0")["original_message_ids"]["user"].clone();
        assert_ne!(first, content("m1")["original_message_ids"]["agent"]);
        assert_ne!(
            content("m3")["original_message_ids"]["action-request"],
            content("m3")["original_message_ids"]["action-response"]
        );
    }
}
