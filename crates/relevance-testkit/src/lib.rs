//! What the workspace's tests share, in one place instead of a copy per crate.
//!
//! | module | holds |
//! |---|---|
//! | [`seed`] | [`Seed`]: a seed file's text built in code (projects, keys, agents, workforces) |
//! | [`emulator`] | [`start`] (an emulator on `127.0.0.1:0` from a [`Config`](relevance_emulator::Config)) and [`TestEmulator`] (seed as text, a database in a temporary directory, an [`Admin`] client) |
//! | [`admin`] | [`Admin`]: the admin API calls tests assert with (request log, keys, revocation) |
//! | [`http`] | [`Answer`]: a raw HTTP answer (status, JSON, text, headers) for protocol-level tests |
//! | [`sdk`] | the SDK suites' standard seed ([`sdk::SEED`], its keys), [`settle`], [`secret_of`] |
//! | [`recorder`] | [`Recorder`]: a proxy on 127.0.0.1 that keeps every request as it was on the wire |
//! | [`browser`] | Chromium and chromedriver: finding them (the skip-or-fail rule), starting a session |
//!
//! Every server binds `127.0.0.1:0`; nothing reaches beyond loopback. Seeds are passed as
//! text ([`SeedSource::Text`](relevance_emulator::SeedSource::Text)), never written to a
//! temporary file.
//!
//! Native only: the SDK depends on this crate for its tests on non-wasm targets only.
#![deny(missing_docs)]

pub mod admin;
pub mod browser;
pub mod emulator;
pub mod http;
pub mod recorder;
pub mod sdk;
pub mod seed;

pub use admin::Admin;
pub use emulator::{start, TestEmulator};
pub use http::{answer, Answer};
pub use recorder::{Recorded, Recorder};
pub use sdk::{secret_of, settle};
pub use seed::{AgentSeed, ProjectSeed, Seed, WorkforceSeed};
