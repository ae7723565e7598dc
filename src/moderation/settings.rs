//! A site's moderation settings beyond its mode and link limit.
//!
//! Stored as one JSON object per site, edited through the admin API and
//! seeded from `colloquy.toml`; every field has a default, so a new site (or
//! an old row) needs none of them.

use serde::{Deserialize, Serialize};

use super::keys::KeyList;

/// The further rules of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SiteRules {
    /// Keys that send a comment to the moderation queue.
    pub moderation_keys: KeyList,
    /// Keys that send a comment straight to spam.
    pub disallowed_keys: KeyList,
    /// Publish at once (rules mode) when the author's e-mail already has a
    /// published comment on this site.
    pub trust_approved_authors: bool,
    /// Close a thread this many days after its first comment (0: never).
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 36500))]
    pub close_after_days: u32,
    /// Deepest nesting: 1 allows no replies, 2 replies to top-level
    /// comments only, … (0: no limit).
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 1000))]
    pub max_depth: u32,
    /// Longest comment, in characters (0: only the server's limit).
    pub max_chars: u32,
    /// Which posts must pass the form checks below (the honeypot, and a
    /// signed, unused form stamp old enough for `min_submit_secs`).
    pub form_checks: FormChecks,
    /// Checked posts carry a hidden field that people leave empty; a post
    /// that fills it is spam.
    pub honeypot: bool,
    /// Checked posts sent sooner than this many seconds after their form
    /// stamp was issued, or without a valid stamp, are held (0: no stamp
    /// check).
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 3600))]
    pub min_submit_secs: u32,
    /// New comments allowed per client address per minute (0: no limit).
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 1000000))]
    pub ip_posts_per_minute: u32,
    /// New comments allowed on the whole site per minute (0: no limit).
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 1000000))]
    pub site_posts_per_minute: u32,
    /// Score new comments and edits with the local spam model (the bundled
    /// starter model) and act on `hold_score` and `spam_score`.
    pub scoring: bool,
    /// Hold a comment whose spam probability is at least this (rules mode).
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 1))]
    pub hold_score: ScoreThreshold,
    /// Mark a comment as spam whose spam probability is at least this (every
    /// mode, like disallowed keys).
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 1))]
    pub spam_score: ScoreThreshold,
    /// Hold a published comment once reports from this many readers
    /// (weighted, see `report::weight`) are open on it (0: never).
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 1000))]
    pub report_threshold: u32,
    /// With `scoring`: a preview tells the writer when the comment may be
    /// held for review (a yes or no, never the score or its words).
    pub scoring_nudge: bool,
    /// Readers may vote on published comments (`order=best` needs them).
    pub votes: bool,
    /// Votes may be −1 as well as +1 (with `votes`).
    pub downvotes: bool,
    /// Comments from readers the site did not sign in: `allowed`, `held`
    /// for a moderator, or refused (`signed_in_only`).
    pub anonymous: Anonymous,
}

/// What happens to comments from readers who are not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Anonymous {
    /// Moderated like any other (the default).
    #[default]
    Allowed,
    /// Held for a moderator.
    Held,
    /// Refused: readers must sign in to comment.
    SignedInOnly,
}

impl Anonymous {
    /// Parses the setting.
    pub fn parse(s: &str) -> Option<Anonymous> {
        match s {
            "allowed" => Some(Anonymous::Allowed),
            "held" => Some(Anonymous::Held),
            "signed_in_only" => Some(Anonymous::SignedInOnly),
            _ => None,
        }
    }
}

/// A spam probability a site acts on, between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScoreThreshold(pub f64);

impl ScoreThreshold {
    /// The threshold for one of the scorer's constants, to four places (so
    /// it reads 0.97, not 0.9700000286).
    fn of(p: f32) -> ScoreThreshold {
        ScoreThreshold((f64::from(p) * 10_000.0).round() / 10_000.0)
    }

    /// Whether a spam probability reaches it.
    pub fn reached_by(self, probability: f32) -> bool {
        f64::from(probability) >= self.0
    }
}

// Thresholds come from files and the API as finite numbers (checked), so
// comparing their bits is equality.
impl Eq for ScoreThreshold {}

impl Default for SiteRules {
    fn default() -> SiteRules {
        SiteRules {
            moderation_keys: KeyList::default(),
            disallowed_keys: KeyList::default(),
            trust_approved_authors: false,
            close_after_days: 0,
            max_depth: 10,
            max_chars: 0,
            form_checks: FormChecks::Browsers,
            honeypot: true,
            min_submit_secs: 3,
            ip_posts_per_minute: 10,
            site_posts_per_minute: 600,
            scoring: false,
            hold_score: ScoreThreshold::of(crate::scoring::DEFAULT_HOLD_SCORE),
            spam_score: ScoreThreshold::of(crate::scoring::DEFAULT_SPAM_SCORE),
            anonymous: Anonymous::Allowed,
            report_threshold: 3,
            scoring_nudge: false,
            votes: true,
            downvotes: true,
        }
    }
}

/// Which posts the form checks (honeypot, form stamp) apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FormChecks {
    /// Posts a browser sends: HTML forms (the thread page, a site's own
    /// form) and requests with a browser's `Origin` or `Sec-Fetch-Site`
    /// header (the embed). Server-side API clients are not checked.
    Browsers,
    /// Every post except those made with an admin token (a site's own
    /// backend): clients that hide their browser headers are checked too.
    All,
    /// No post is checked.
    Off,
}

impl FormChecks {
    /// The setting as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FormChecks::Browsers => "browsers",
            FormChecks::All => "all",
            FormChecks::Off => "off",
        }
    }

    /// Parses the setting.
    pub fn parse(s: &str) -> Option<FormChecks> {
        match s {
            "browsers" => Some(FormChecks::Browsers),
            "all" => Some(FormChecks::All),
            "off" => Some(FormChecks::Off),
            _ => None,
        }
    }
}

/// Largest values accepted, so a typo cannot make a rule meaningless.
pub const MAX_DAYS: u32 = 36_500;
/// Deepest `max_depth` accepted.
pub const MAX_DEPTH: u32 = 1_000;
/// Largest per-minute rate accepted.
pub const MAX_PER_MINUTE: u32 = 1_000_000;
/// Longest `min_submit_secs` accepted.
pub const MAX_SUBMIT_SECS: u32 = 3_600;
/// Largest `report_threshold` accepted.
pub const MAX_REPORT_THRESHOLD: u32 = 1_000;

impl SiteRules {
    /// Checks every value's range.
    ///
    /// # Errors
    /// `(field, message)` for the first value out of range.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let checks: [(&'static str, u32, u32); 6] = [
            (
                "report_threshold",
                self.report_threshold,
                MAX_REPORT_THRESHOLD,
            ),
            ("close_after_days", self.close_after_days, MAX_DAYS),
            ("max_depth", self.max_depth, MAX_DEPTH),
            ("min_submit_secs", self.min_submit_secs, MAX_SUBMIT_SECS),
            (
                "ip_posts_per_minute",
                self.ip_posts_per_minute,
                MAX_PER_MINUTE,
            ),
            (
                "site_posts_per_minute",
                self.site_posts_per_minute,
                MAX_PER_MINUTE,
            ),
        ];
        for (field, value, max) in checks {
            if value > max {
                return Err((field, format!("{value} is above the limit of {max}")));
            }
        }
        for (field, ScoreThreshold(v)) in [
            ("hold_score", self.hold_score),
            ("spam_score", self.spam_score),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err((
                    field,
                    format!("{v} is not a probability: use a number from 0 to 1"),
                ));
            }
        }
        if self.hold_score > self.spam_score {
            return Err((
                "hold_score",
                format!(
                    "hold_score {} is above spam_score {}: a comment would be marked spam before it could be held",
                    self.hold_score.0, self.spam_score.0
                ),
            ));
        }
        Ok(())
    }
}

/// How a site moderates new comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModerationMode {
    /// Publish every comment at once.
    Publish,
    /// Hold every comment for a moderator.
    Hold,
    /// Hold comments that the rules flag (for now: too many links).
    Rules,
}

impl ModerationMode {
    /// The mode as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ModerationMode::Publish => "publish",
            ModerationMode::Hold => "hold",
            ModerationMode::Rules => "rules",
        }
    }

    /// Parses a mode.
    pub fn parse(s: &str) -> Option<ModerationMode> {
        match s {
            "publish" => Some(ModerationMode::Publish),
            "hold" => Some(ModerationMode::Hold),
            "rules" => Some(ModerationMode::Rules),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_object_is_the_defaults() {
        let r: SiteRules = serde_json::from_str("{}").unwrap_or_else(|_| SiteRules {
            max_depth: 999,
            ..SiteRules::default()
        });
        assert_eq!(r, SiteRules::default());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<SiteRules>(r#"{"max_dept": 3}"#).is_err());
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let r = SiteRules {
            close_after_days: MAX_DAYS + 1,
            ..SiteRules::default()
        };
        assert_eq!(r.check().map_err(|e| e.0), Err("close_after_days"));
        assert!(SiteRules::default().check().is_ok());
    }
}
