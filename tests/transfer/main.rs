//! Import and export against real databases (SQLite, and PostgreSQL when
//! `COLLOQUY_TEST_POSTGRES_URL` is set), from fixtures written in each
//! source system's format, and the `colloquy import` / `export` commands.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod cli;
mod errors;
mod imports;
mod round_trip;
