//! Colloquy: a self-hosted comment engine.
//!
//! This crate's core is the text-format pipeline. A [`Policy`] (one text
//! format, loaded from a TOML file in `policies/`) runs its filters in order —
//! `html_escape`, `html`, `url`, `autop`, `html_corrector`, `markdown` — and
//! the [`safety`] net runs last, whatever the policy says, so the result can
//! hold no script, style, event handler or link outside http, https, ftp and
//! mailto.
//!
//! ```
//! use colloquy::PolicySet;
//!
//! let formats = PolicySet::bundled();
//! let plain = formats.get("plain_text").expect("bundled");
//! let out = plain.render("Hi <b>there</b>, see www.example.com");
//! assert_eq!(
//!     out.html.as_str(),
//!     "<p>Hi &lt;b&gt;there&lt;/b&gt;, see \
//!      <a href=\"http://www.example.com\" rel=\"nofollow ugc\">www.example.com</a></p>\n"
//! );
//! assert!(out.policy_version.starts_with("sha256:"));
//! ```

#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod clock;
pub mod comment;
pub mod config;
#[cfg(feature = "server")]
pub mod connections;
pub mod error;
pub mod filter;
#[cfg(feature = "server")]
pub mod http;
pub mod invariants;
#[cfg(feature = "server")]
pub mod keys;
mod markup;
#[cfg(feature = "server")]
pub mod memo;
pub mod moderation;
pub mod net;
#[cfg(feature = "server")]
pub mod notify;
#[cfg(feature = "server")]
pub mod outbox;
pub mod policy;
#[cfg(feature = "server")]
pub mod ratelimit;
#[cfg(feature = "server")]
pub mod render_pool;
pub mod safety;
pub mod scoring;
#[cfg(feature = "server")]
pub mod secret;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod site;
#[cfg(feature = "server")]
pub mod store;
mod text;
#[cfg(feature = "server")]
pub mod transfer;
#[cfg(feature = "server")]
pub mod urls;

pub use policy::{LoadError, Policy, PolicyError, PolicySet, Rendered};
pub use safety::SafeHtml;
