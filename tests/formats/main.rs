//! Text-format tests: Drupal 7 conformance, bundled policies and their tips,
//! policy-loading errors, and property tests over the output invariants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
mod policies;
mod properties;
