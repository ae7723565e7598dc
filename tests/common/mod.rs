//! The test harness shared by the integration-test binaries: fresh
//! databases on both backends (`db`) and a real server on a random port
//! (`server`). Each binary includes it with `#[path = "../common/mod.rs"]`.

#![allow(dead_code, unused_imports)]

pub mod db;
pub mod server;

pub use db::*;
pub use server::*;
