//! A local emulator of the Relevance AI platform.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]
