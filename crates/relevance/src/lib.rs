//! Rust SDK for the Relevance AI agent platform.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]
