//! Reliability and security: the service under crashes, load, hostile input
//! and cross-origin or unauthorized callers. Every test runs on SQLite and,
//! when `COLLOQUY_TEST_POSTGRES_URL` is set, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub, dead_code)]

#[path = "../common/mod.rs"]
mod common;
use common as helpers;
mod process;

mod access;
mod bad_input;
mod caches;
mod concurrency;
mod connections;
mod crash;
mod instances;
mod rendering;
