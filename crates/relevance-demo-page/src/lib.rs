//! The demo chat page: one public agent, talked to from a browser with an
//! embed key, using nothing but the `relevance` SDK's public API.
//!
//! The page is what the official documentation describes for a browser: it
//! makes an embed key once ([`relevance::EmbedSession`] over
//! `LocalStorageKeyStore`, or `CookieKeyStore` with `?store=cookie`),
//! restores it on the next load without a request,
//! keeps its conversation's task id so a reload continues it, follows the
//! task live ([`relevance::Task::events`]) and replaces a revoked key once,
//! saying so. Its settings (emulator origin, region, project, agent) come
//! from `config.json` next to it, so nothing is baked into the build.
//!
//! Where things live:
//! * `config` — reading `config.json`;
//! * `view` — the page's elements and how each message and event is drawn
//!   (never a request);
//! * `chat` — the key session, sending, restoring and following the task
//!   (never touches an element directly).
//!
//! Everything is browser-only: on a native target this crate is empty, so
//! the workspace's native build, clippy and tests pass over it.
#![cfg(target_family = "wasm")]
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod chat;
mod config;
mod view;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point, called by the wasm-bindgen glue once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    wasm_bindgen_futures::spawn_local(chat::run());
}
