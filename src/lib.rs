//! Colloquy: a self-hosted comment engine.
//!
//! This crate's core is the text-format pipeline. A [`Policy`] (one text
//! format, loaded from a TOML file in `policies/`) runs its filters in order —
//! `html_escape`, `html`, `url`, `autop`, `html_corrector`, `markdown` — and
//! the [`safety`] net runs last, whatever the policy says, so the result can
//! hold no script, style, event handler or link outside http, https, ftp and
//! mailto.
//!
//! For one comment in a bundled format, [`render`] is the whole API:
//!
//! ```
//! let html = colloquy::render("filtered_html", "<b>bold</b> and <em>kept</em>").unwrap();
//! assert_eq!(html.as_str(), "<p>bold and <em>kept</em></p>\n");
//! assert!(colloquy::render("no_such_format", "x").is_err());
//! ```
//!
//! A site's own policy files go through a [`PolicySet`]:
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
pub mod commenter;
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
pub mod reader;
#[cfg(feature = "server")]
pub mod render_pool;
pub mod report;
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
pub mod sso;
#[cfg(feature = "server")]
pub mod statement;
#[cfg(feature = "server")]
pub mod store;
mod text;
#[cfg(feature = "server")]
pub mod transfer;
#[cfg(feature = "server")]
pub mod urls;
pub mod vote;

pub use policy::{LoadError, Policy, PolicyError, PolicySet, Rendered};
pub use safety::SafeHtml;

/// The format asked of [`render`] is not one of the bundled formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no bundled text format is called {0:?}")]
pub struct UnknownFormat(pub String);

/// Renders `text` in one of the bundled formats (`filtered_html`,
/// `plain_text`, `markdown`), exactly as the server would store it.
///
/// The bundled policies are compiled once, on first use.
pub fn render(format: &str, text: &str) -> Result<SafeHtml, UnknownFormat> {
    static BUNDLED: std::sync::OnceLock<PolicySet> = std::sync::OnceLock::new();
    let set = BUNDLED.get_or_init(PolicySet::bundled);
    match set.get(format) {
        Some(policy) => Ok(policy.render_html(text)),
        None => Err(UnknownFormat(format.to_string())),
    }
}
