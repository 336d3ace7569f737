//! A local emulator of the Relevance AI platform.
//!
//! One process serves every region under `/{region code}/latest/...`
//! (PROTOCOL B), backed by SQLite, seeded from a TOML file or with a demo
//! project. Start it with [`Emulator::start`] (a handle, for tests and
//! embedding) or [`run`] (until a shutdown future resolves, for the CLI).
//!
//! Where things live:
//! * `config` — [`Config`] and its parts (storage, seed, limits, quotas);
//!   `startup` — what happens before the first request (database, seed or
//!   demo, admin token, shared state); `emulator` — [`run`] and the
//!   [`Emulator`] handle, the one `serve` and the clean stop;
//! * `app` — the route table (every route with its access policy), the
//!   router built from it, and the layers every request passes through;
//! * `state` — `AppState`, what every handler and middleware can reach;
//! * `auth` — the one place a credential is checked (the policy guards:
//!   header → `Principal`, streaming token → grant) and scoped
//!   (`Principal` → what the store may return), plus key generation;
//! * `api` — one file per platform resource: parse, call a service, render;
//!   `service` — one function per use case between the handlers and the
//!   store; `admin` — the admin API and request log;
//! * `store` — SQLite schema and queries (`definitions`, `keys`, `tasks`,
//!   `overview`, …, rows two of them share in `cached_rows`); `seed` / `demo`
//!   — what is upserted at start-up (the demo is a TOML seed, `demo.toml`);
//! * `engine` — scripted agent behaviours and the one scheduler that runs
//!   their steps, plus the per-task live events ([`LiveEvent`]), which the
//!   live stream (`api::stream`, authenticated by streaming tokens minted in
//!   `auth`) turns into server-sent events;
//! * `faults` — opt-in fault injection ([`Faults`]) for testing clients;
//! * `error` — `ApiError`, the JSON `{"message"}` every failure answers with.
//!
//! Glossary — the SDK's words, used here too:
//! * *task*: one conversation of an agent or a workforce (the platform's
//!   `conversation` / `knowledge_set`); *task owner*: that agent or workforce;
//! * *trigger*: the request that writes a user message and starts a run
//!   (`engine::trigger`: the `TriggerTask` it writes to, the
//!   *inbound message* with its settings, the *trigger outcome* it answers);
//! * *message content*: a user message, an agent message, an agent error
//!   message, a tool run (`engine::content`);
//! * *typing* / *thinking*: the live fragments ([`LiveEvent::Typing`],
//!   [`LiveEvent::Thinking`]), each a `delta` of the message `message_id`
//!   (on the wire still the platform's `{"type":"text","content","documentId"}`);
//! * *decision*: a person's approve or reject of a waiting tool run;
//! * *store*: SQLite (`store`); *definitions*: the projects, agents and
//!   workforces a seed defines; *overview*: the operator's (dashboard's) reads;
//! * *view*: what a dashboard template renders (`service::overview`), never a
//!   store row.
//!
//! The trigger body and the message content are defined here and again in
//! the SDK (`relevance`'s `wire` and `message`). That is on purpose: the
//! emulator never depends on the SDK and is checked against the platform's
//! own models (its Python client's, the generated API types), not against
//! our SDK, so a mistake in one cannot hide by being copied into the other.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod admin;
mod api;
mod app;
mod auth;
mod config;
mod demo;
mod demo_page;
mod emulator;
mod engine;
mod error;
mod faults;
mod job_board;
mod json;
#[cfg(test)]
mod proptests;
mod rate_limit;
mod region;
mod seed;
mod server;
mod service;
mod start_error;
mod startup;
mod state;
mod store;
mod time;

pub use config::{
    Config, ConnectionLimits, Quotas, SeedSource, Storage, DEFAULT_STREAMING_TOKEN_TTL_MS,
    FILE_MARGIN,
};
pub use demo::DemoProject;
pub use demo_page::DemoPage;
pub use engine::LiveEvent;
pub use faults::Faults;
pub use start_error::StartError;
pub use store::DATABASE_FILE_NAME;

pub use emulator::{run, Emulator};
pub use startup::ProjectSummary;
