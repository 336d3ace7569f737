//! End-to-end tests of the emulator over real HTTP on 127.0.0.1.

mod admin;
mod approvals;
mod auth;
mod bodies;
mod connections;
mod cors;
mod embed;
mod engine;
mod faults;
mod files;
mod jobs;
mod knowledge;
mod lifecycle;
mod manage_agents;
mod persistence;
mod platform_answers;
mod principals;
mod seed;
mod stream;
mod support;
mod tasks;
mod tools;
mod webhooks;
mod workforces;
