//! The comment service over real HTTP against real databases (SQLite, and
//! PostgreSQL when `COLLOQUY_TEST_POSTGRES_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

#[path = "../common/mod.rs"]
mod common;
// The stories name the harness `helpers`.
use common as helpers;

mod admin;
mod api;
mod community;
mod delivery;
mod errors;
mod hostile;
mod identity;
mod keys;
mod learning;
mod moderation;
mod notify;
mod openapi;
mod origins;
mod pages;
mod privacy;
mod receivers;
mod replica;
mod scaleout;
mod statements;
mod store;
mod threads;
mod votes;
