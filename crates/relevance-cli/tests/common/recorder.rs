//! The recording proxy, from the workspace's test kit.
#![allow(unused_imports)]

pub use relevance_testkit::recorder::{Recorded, Recorder};
