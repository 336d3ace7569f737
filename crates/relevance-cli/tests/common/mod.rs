//! Shared by the tests that run the `relevance` binary: how to run it ([`binary`]) and,
//! from the workspace's test kit (`relevance-testkit`), an in-process emulator on
//! 127.0.0.1:0 seeded from text and a small admin-API client.
#![allow(dead_code, unused_imports)]

pub mod binary;
pub mod python;
pub mod recorder;

pub use relevance_testkit::sdk::{API_KEY_A, API_KEY_B, API_KEY_C, SEED};
pub use relevance_testkit::{secret_of, settle, Admin, TestEmulator};
