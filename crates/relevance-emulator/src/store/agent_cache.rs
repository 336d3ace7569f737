//! The `agents` rows that `agents/{id}/get` has read, in memory.
//!
//! Why: every read went through the store's single thread and queued behind
//! whatever else it was doing; the throughput bench in `relevance-cli` showed
//! authenticated gets at half the rate of a bare route. A cached agent is answered
//! on the request's own task.
//!
//! Coherence rules, which every change must keep:
//! * The cache is only filled and changed on the store's thread, which owns it beside
//!   the connection, so a fill (a read of the committed row) can never interleave
//!   with a write and bring back a row that a write just replaced.
//! * Every function that writes the `agents` table (`definitions::upsert_project`,
//!   `definitions::save_agent`, `definitions::delete_agent`, `overview::set_agent_public`) takes this cache as an argument (a store
//!   closure gets it from its `Db`) and forgets the rows it touches inside the same
//!   store call as the write: the very next read reloads from SQLite.
//! * Entries hold the full row; scope ([`Visibility`]) is applied by the reader, to
//!   the cached row, exactly as the SQL query applies it.
//!
//! Only rows that exist are cached: a lookup of an unknown id goes to SQLite each
//! time, which bounds the cache by the size of the catalog.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::cached_rows::AgentRecord;

/// Agent rows by project id, then agent id.
#[derive(Debug, Default)]
pub(crate) struct AgentCache {
    by_project: RwLock<HashMap<String, HashMap<String, Arc<AgentRecord>>>>,
}

impl AgentCache {
    /// The cached row of `agent_id` in `project`, if it was loaded and not changed since.
    ///
    /// A poisoned lock reads as a miss: the caller then asks SQLite, which is always right.
    pub(crate) fn get(&self, project: &str, agent_id: &str) -> Option<Arc<AgentRecord>> {
        self.by_project
            .read()
            .ok()?
            .get(project)?
            .get(agent_id)
            .cloned()
    }

    /// Caches a row as just read from SQLite. Only on the store's thread.
    pub(crate) fn remember(&self, agent: AgentRecord) {
        match self.by_project.write() {
            Ok(mut projects) => {
                projects
                    .entry(agent.project.clone())
                    .or_default()
                    .insert(agent.id.clone(), Arc::new(agent));
            }
            Err(_) => self.forget_all(),
        }
    }

    /// Drops one agent, so the next read reloads it. Only on the store's thread.
    pub(crate) fn forget(&self, project: &str, agent_id: &str) {
        match self.by_project.write() {
            Ok(mut projects) => {
                if let Some(agents) = projects.get_mut(project) {
                    agents.remove(agent_id);
                }
            }
            Err(_) => self.forget_all(),
        }
    }

    /// Drops every agent of `project`. Only on the store's thread.
    pub(crate) fn forget_project(&self, project: &str) {
        match self.by_project.write() {
            Ok(mut projects) => {
                projects.remove(project);
            }
            Err(_) => self.forget_all(),
        }
    }

    /// Drops everything, even past a poisoned lock: a stale entry must never survive.
    fn forget_all(&self) {
        let mut projects = self
            .by_project
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        projects.clear();
        self.by_project.clear_poison();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::Region;
    use crate::store::definitions::{self, AgentSpec, ProjectSpec, Visibility};
    use crate::store::{overview, Store};

    fn agent(project: &str, id: &str) -> AgentRecord {
        AgentRecord {
            project: project.to_string(),
            id: id.to_string(),
            name: None,
            description: None,
            emoji: None,
            public: false,
            model: "emulated".to_string(),
            use_streaming: false,
            tool_ids: Vec::new(),
            settings: serde_json::Map::new(),
            insert_date: "2026-01-01T00:00:00.000Z".to_string(),
            update_date: "2026-01-01T00:00:00.000Z".to_string(),
        }
    }

    #[test]
    fn forgetting_drops_exactly_what_was_written() {
        let cache = AgentCache::default();
        cache.remember(agent("p", "a"));
        cache.remember(agent("p", "b"));
        cache.remember(agent("q", "a"));
        assert!(cache.get("p", "a").is_some());
        assert!(cache.get("p", "c").is_none(), "never loaded");
        cache.forget("p", "a");
        assert!(cache.get("p", "a").is_none());
        assert!(cache.get("p", "b").is_some(), "a sibling stays");
        assert!(
            cache.get("q", "a").is_some(),
            "same id, other project stays"
        );
        cache.forget_project("p");
        assert!(cache.get("p", "b").is_none());
        assert!(cache.get("q", "a").is_some());
    }

    fn spec(name: &str, public: bool) -> ProjectSpec {
        ProjectSpec {
            id: "p".into(),
            region: Region::US,
            agents: vec![AgentSpec {
                id: "a".into(),
                name: Some(name.into()),
                description: None,
                emoji: None,
                public,
                model: "emulated".into(),
                behavior: "echo".into(),
                behavior_config: "{}".into(),
                use_streaming: false,
                tools: Vec::new(),
            }],
            workforces: vec![],
            tools: Vec::new(),
            webhooks: Vec::new(),
        }
    }

    async fn upsert(store: &Store, spec: ProjectSpec, now: &'static str) {
        store
            .call(move |db| {
                let (connection, caches) = db.split();
                let transaction = connection.transaction()?;
                definitions::upsert_project(&transaction, &caches.agents, &spec, now)?;
                transaction.commit()
            })
            .await
            .expect("upsert");
    }

    async fn get(store: &Store, visibility: &Visibility) -> Option<AgentRecord> {
        store.find_agent("p", visibility, "a").await.expect("find")
    }

    #[tokio::test]
    async fn every_agent_write_is_seen_by_the_next_read() {
        let store = Store::open_in_memory().expect("store");
        upsert(&store, spec("A", true), "2026-01-01T00:00:00.000Z").await;
        let first = get(&store, &Visibility::All).await.expect("exists");
        assert_eq!(first.name.as_deref(), Some("A"));
        assert!(
            store.inner.agent_cache.get("p", "a").is_some(),
            "the read filled the cache"
        );

        // The dashboard's switch.
        let changed = store
            .call(|db| {
                overview::set_agent_public(
                    db,
                    db.agent_cache(),
                    "p",
                    "a",
                    false,
                    "2026-01-02T00:00:00.000Z",
                )
            })
            .await
            .expect("switch");
        assert!(changed);
        let switched = get(&store, &Visibility::All).await.expect("exists");
        assert!(!switched.public, "the switch is visible at once");
        assert_eq!(switched.update_date, "2026-01-02T00:00:00.000Z");

        // A seed re-applied with an edit.
        upsert(&store, spec("B", true), "2026-01-03T00:00:00.000Z").await;
        let edited = get(&store, &Visibility::All).await.expect("exists");
        assert_eq!(edited.name.as_deref(), Some("B"));
        assert!(edited.public);
    }

    #[tokio::test]
    async fn scope_applies_to_a_cached_row_as_to_the_query() {
        let store = Store::open_in_memory().expect("store");
        upsert(&store, spec("A", true), "2026-01-01T00:00:00.000Z").await;
        for round in ["cold", "cached"] {
            let cases = [
                (Visibility::All, true),
                (Visibility::Only("a".into()), true),
                (Visibility::Only("other".into()), false),
                (Visibility::Nothing, false),
            ];
            for (visibility, visible) in cases {
                assert_eq!(
                    get(&store, &visibility).await.is_some(),
                    visible,
                    "{round} {visibility:?}"
                );
            }
        }
        assert!(store
            .find_agent("other-project", &Visibility::All, "a")
            .await
            .expect("find")
            .is_none());
        assert!(store
            .find_agent("p", &Visibility::All, "missing")
            .await
            .expect("find")
            .is_none());
    }
}
