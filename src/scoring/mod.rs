//! Spam and abuse scoring that runs on the site's own server, learns from
//! its moderators and says why it scored what it did.
//!
//! A [`Model`] is a logistic regression over hashed features of a comment:
//! its words, word pairs and letter 4-grams (lowercased, NFKC-normalised,
//! split on Unicode word boundaries), the domains it links to, and facts
//! the service knows ([`Facts`]: author known or new, new link domains,
//! posting speed, thread age, reports). It learns online, one moderator
//! decision at a time ([`Model::learn`]), with FTRL-Proximal. Nothing
//! leaves the machine.
//!
//! ```
//! use colloquy::scoring::{Facts, Label, Model, ScoringInput, Thresholds, Verdict};
//!
//! let mut model = Model::starter();
//! let comment = ScoringInput {
//!     body: "Best online casino bonus, free spins: claim your prize now!",
//!     link_domains: &["casino-bonus.example"],
//!     facts: Facts { author_known: Some(false), ..Facts::default() },
//!     ..ScoringInput::default()
//! };
//! let score = model.score(&comment);
//! assert!(score.probability > 0.5);
//! println!("{}", score.reason()); // spam score 1.00 (words: your, free, best, now, online)
//! assert_ne!(Thresholds::default().verdict(score.probability), Verdict::Publish);
//!
//! // A moderator approves it after all: the model learns, and the bytes go
//! // back to the database.
//! model.learn(&comment, Label::Ham);
//! assert!(model.score(&comment).probability < score.probability);
//! let stored = model.to_bytes();
//! assert_eq!(Model::from_bytes(&stored)?, model);
//! # Ok::<(), colloquy::scoring::ModelError>(())
//! ```
//!
//! Guarantees:
//! - deterministic: the same model and input give the same score bit for
//!   bit (fixed-order `f32` arithmetic, pure-Rust libm, no randomness, so
//!   no platform's maths library or FMA contraction enters), and training
//!   the same examples in the same order gives the same bytes;
//! - bounded: any input costs at most 16 KiB of text's work and at most
//!   [`MAX_FEATURES`] features (see [`features`]);
//! - explained: every [`Score`] names its largest [`Contribution`]s, and
//!   [`Score::reason`] writes them as a sentence for the moderation log;
//! - stored compactly in a versioned binary form ([`format`]) that is
//!   checked on reading.
//!
//! [`Model::starter`] is a model trained on the public SpamAssassin corpus
//! and bundled in the binary, so a new site scores from its first comment;
//! `scoring/README.md` says how it was made and how to make it again.

pub mod evaluate;
pub mod features;
pub mod format;
mod input;
pub mod links;
mod model;

pub use evaluate::{evaluate, Evaluation};
pub use features::{FeatureKind, FeatureKinds, MAX_FEATURES};
pub use format::{ModelError, FORMAT_VERSION};
pub use input::{Facts, ScoringInput};
pub use links::{email_domain, link_domains, url_domain};
pub use model::{Contribution, Label, Model, Params, Score, TOP_CONTRIBUTIONS};

/// The bundled starter model (see `scoring/README.md`).
const STARTER: &[u8] = include_bytes!("starter.model");

/// Hold a comment for moderation at or above this spam probability.
pub const DEFAULT_HOLD_SCORE: f32 = 0.5;
/// Mark a comment as spam at or above this spam probability.
pub const DEFAULT_SPAM_SCORE: f32 = 0.97;

impl Model {
    /// The bundled starter model, trained on public labelled mail. It
    /// parses in a few milliseconds; keep one per site rather than calling
    /// this per comment.
    #[must_use]
    pub fn starter() -> Model {
        // A test checks that the bundled bytes load; an empty model is the
        // safe answer should they ever not.
        Model::from_bytes(STARTER).unwrap_or_default()
    }
}

/// What a site does with a spam probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Hold at or above this.
    pub hold: f32,
    /// Mark as spam at or above this.
    pub spam: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            hold: DEFAULT_HOLD_SCORE,
            spam: DEFAULT_SPAM_SCORE,
        }
    }
}

/// The action a probability calls for under some [`Thresholds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Below the hold threshold.
    Publish,
    /// At or above the hold threshold, below the spam one.
    Hold,
    /// At or above the spam threshold.
    Spam,
}

impl Thresholds {
    /// The verdict for a spam probability.
    #[must_use]
    pub fn verdict(&self, probability: f32) -> Verdict {
        if probability >= self.spam {
            Verdict::Spam
        } else if probability >= self.hold {
            Verdict::Hold
        } else {
            Verdict::Publish
        }
    }
}

/// Contributions a reason names at most.
const REASON_ITEMS: usize = 5;

impl Score {
    /// The score and what pushed it, as a sentence for a moderator:
    /// `spam score 0.94 (links to 3 or more new domains; words: casino,
    /// bonus, free)`. Names what pushed towards spam when the score is 0.5 or
    /// more, what pushed away from it otherwise.
    #[must_use]
    pub fn reason(&self) -> String {
        let towards_spam = self.probability >= 0.5;
        let mut facts: Vec<String> = Vec::new();
        let mut words: Vec<&str> = Vec::new();
        let mut letters: Vec<&str> = Vec::new();
        let agreeing = self
            .top
            .iter()
            .filter(|c| (c.weight > 0.0) == towards_spam && c.weight != 0.0)
            .take(REASON_ITEMS);
        for c in agreeing {
            let list = match c.kind {
                FeatureKind::Word | FeatureKind::Phrase => &mut words,
                FeatureKind::Letters => &mut letters,
                _ => {
                    facts.push(c.describe());
                    continue;
                }
            };
            if !list.contains(&c.text.as_str()) {
                list.push(&c.text);
            }
        }
        let mut parts = facts;
        if !words.is_empty() {
            parts.push(format!("words: {}", words.join(", ")));
        }
        if !letters.is_empty() {
            parts.push(format!("parts of words: {}", letters.join(", ")));
        }
        let head = format!("spam score {:.2}", self.probability);
        if parts.is_empty() {
            head
        } else {
            format!("{head} ({})", parts.join("; "))
        }
    }
}

impl Contribution {
    /// The feature as a moderator reads it: `word "casino"`,
    /// `links to casino.example`, `author new`.
    #[must_use]
    pub fn describe(&self) -> String {
        let t = &self.text;
        match self.kind {
            FeatureKind::Word => format!("word \"{t}\""),
            FeatureKind::Phrase => format!("words \"{t}\""),
            FeatureKind::Letters => format!("part of the word \"{t}\""),
            FeatureKind::AuthorWord => format!("name \"{t}\""),
            FeatureKind::LinkDomain => format!("links to {t}"),
            FeatureKind::LinkTld => format!("links to .{t}"),
            FeatureKind::EmailDomain => format!("e-mail at {t}"),
            FeatureKind::Homepage => format!("homepage at {t}"),
            _ => t.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
