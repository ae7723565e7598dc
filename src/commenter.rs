//! The enforcement ladder: what moderators do to a commenter (warn,
//! pre-moderate, suspend, shadow-ban, ban, clear), how a commenter is named
//! (their site identity, e-mail or address hash), and what their standing
//! means for their next post.
//!
//! Pure rules: the service looks up the standings that match a post and
//! the moderation rules apply what [`enforcement`] returns.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A commenter as moderators name them: the text forms of a reader key
/// (`user:ID`, `ip:HASH`) and `email:ADDRESS`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommenterKey {
    /// A signed-in reader: the site's id for them.
    User(String),
    /// An e-mail address (lower case).
    Email(String),
    /// The keyed hash of an address (as the queue shows `ip_hash`).
    Address(String),
}

/// Longest key text accepted.
pub const MAX_KEY_CHARS: usize = 300;

impl CommenterKey {
    /// Parses `user:ID`, `email:ADDRESS` or `ip:HASH`.
    ///
    /// # Errors
    /// A message saying which forms exist.
    pub fn parse(text: &str) -> Result<CommenterKey, String> {
        let forms =
            "name a commenter as `user:ID`, `email:ADDRESS` or `ip:HASH` (the queue's ip_hash)";
        if text.is_empty()
            || text.chars().count() > MAX_KEY_CHARS
            || text.chars().any(char::is_control)
        {
            return Err(forms.to_owned());
        }
        if let Some(id) = text.strip_prefix("user:") {
            if !id.is_empty() {
                return Ok(CommenterKey::User(id.to_owned()));
            }
        } else if let Some(address) = text.strip_prefix("email:") {
            let valid = address.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            }) && !address.contains(char::is_whitespace);
            if valid {
                return Ok(CommenterKey::Email(address.to_ascii_lowercase()));
            }
        } else if let Some(hash) = text.strip_prefix("ip:") {
            if !hash.is_empty() && hash.len() <= 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(CommenterKey::Address(hash.to_ascii_lowercase()));
            }
        }
        Err(forms.to_owned())
    }

    /// The keys a post is matched by: the author's identity, e-mail and
    /// address hash, those it has.
    pub fn of_post(
        user: Option<&str>,
        email: Option<&str>,
        ip_hash: Option<&str>,
    ) -> Vec<CommenterKey> {
        let mut keys = Vec::with_capacity(3);
        if let Some(u) = user.filter(|u| !u.is_empty()) {
            keys.push(CommenterKey::User(u.to_owned()));
        }
        if let Some(e) = email.filter(|e| !e.is_empty()) {
            keys.push(CommenterKey::Email(e.trim().to_ascii_lowercase()));
        }
        if let Some(h) = ip_hash.filter(|h| !h.is_empty()) {
            keys.push(CommenterKey::Address(h.to_owned()));
        }
        keys
    }
}

impl fmt::Display for CommenterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommenterKey::User(id) => write!(f, "user:{id}"),
            CommenterKey::Email(address) => write!(f, "email:{address}"),
            CommenterKey::Address(hash) => write!(f, "ip:{hash}"),
        }
    }
}

#[cfg(feature = "server")]
impl From<crate::reader::ReaderKey> for CommenterKey {
    fn from(k: crate::reader::ReaderKey) -> CommenterKey {
        match k {
            crate::reader::ReaderKey::User(id) => CommenterKey::User(id),
            crate::reader::ReaderKey::Address(hash) => CommenterKey::Address(hash),
        }
    }
}

/// A rung of the ladder, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The next post's answer carries the moderators' warning, once.
    Warn,
    /// Every post is held for a moderator, with the reason.
    Premoderate,
    /// Posts are accepted but held for everyone except their author, who
    /// sees them as published.
    ShadowBan,
    /// Posts are refused until a time.
    Suspend,
    /// Posts are refused.
    Ban,
}

impl Step {
    /// Every step.
    pub const ALL: [Step; 5] = [
        Step::Warn,
        Step::Premoderate,
        Step::ShadowBan,
        Step::Suspend,
        Step::Ban,
    ];

    /// As sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Warn => "warn",
            Step::Premoderate => "premoderate",
            Step::ShadowBan => "shadow_ban",
            Step::Suspend => "suspend",
            Step::Ban => "ban",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A commenter's standing as stored: the step a moderator set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Whom it names.
    pub key: CommenterKey,
    /// The step.
    pub step: Step,
    /// When it ends (ms); `None`: until cleared.
    pub until: Option<i64>,
    /// The moderator's reason.
    pub reason: String,
    /// A warning was shown already.
    pub warned: bool,
}

impl Standing {
    /// Whether it still applies at `now`.
    pub fn in_force(&self, now: i64) -> bool {
        self.until.is_none_or(|u| now < u)
    }
}

/// What a post's matching standings do to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    /// Refused (403).
    Banned {
        /// The moderator's reason.
        reason: String,
    },
    /// Refused until `until` (403).
    Suspended {
        /// When it ends (ms).
        until: i64,
        /// The moderator's reason.
        reason: String,
    },
    /// Held for everyone but shown to its author as published.
    Shadow,
    /// Held for a moderator.
    Premoderated {
        /// The moderator's reason.
        reason: String,
    },
    /// Stored as the rules decide; the answer carries the warning (those
    /// keys' warnings are then marked shown).
    Warned {
        /// The moderator's reason.
        reason: String,
        /// The keys whose warning this shows.
        keys: Vec<CommenterKey>,
    },
}

/// The strongest standing in force at `now` among those matching a post;
/// a warning only if it was not shown yet. A suspension without an end is
/// a ban.
pub fn enforcement(standings: &[Standing], now: i64) -> Option<Enforcement> {
    let strongest = standings
        .iter()
        .filter(|s| s.in_force(now) && s.step != Step::Warn)
        .max_by_key(|s| (s.step, s.until.map_or(i64::MAX, |u| u)));
    let Some(strongest) = strongest else {
        return warning(standings, now);
    };
    let reason = strongest.reason.clone();
    Some(match (strongest.step, strongest.until) {
        (Step::Ban, _) | (Step::Suspend, None) => Enforcement::Banned { reason },
        (Step::Suspend, Some(until)) => Enforcement::Suspended { until, reason },
        (Step::ShadowBan, _) => Enforcement::Shadow,
        (Step::Premoderate | Step::Warn, _) => Enforcement::Premoderated { reason },
    })
}

fn warning(standings: &[Standing], now: i64) -> Option<Enforcement> {
    let due: Vec<&Standing> = standings
        .iter()
        .filter(|s| s.step == Step::Warn && !s.warned && s.in_force(now))
        .collect();
    let first = due.first()?;
    Some(Enforcement::Warned {
        reason: first.reason.clone(),
        keys: due.iter().map(|s| s.key.clone()).collect(),
    })
}

/// The reason a shadow-banned comment is held with; the author's own view
/// recognizes their shadow comments by it.
pub const SHADOW_REASON: &str = "held: shadow ban on the commenter";

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(step: Step, until: Option<i64>) -> Standing {
        Standing {
            key: CommenterKey::Address("ab".into()),
            step,
            until,
            reason: format!("{} reason", step.as_str()),
            warned: false,
        }
    }

    #[test]
    fn keys_parse_from_their_text_forms_and_print_back() {
        for text in ["user:42", "email:erin@example.org", "ip:00ff"] {
            let key = CommenterKey::parse(text);
            assert_eq!(key.map(|k| k.to_string()).as_deref(), Ok(text));
        }
        assert_eq!(
            CommenterKey::parse("email:Erin@Example.org"),
            Ok(CommenterKey::Email("erin@example.org".into()))
        );
        for bad in [
            "",
            "user:",
            "ip:xyz",
            "email:nobody",
            "name:ada",
            "user:a\nb",
        ] {
            assert!(CommenterKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(CommenterKey::parse(&format!("user:{}", "x".repeat(400))).is_err());
        assert_eq!(
            CommenterKey::of_post(None, Some(" A@B.example "), Some("ff")),
            vec![
                CommenterKey::Email("a@b.example".into()),
                CommenterKey::Address("ff".into())
            ]
        );
    }

    #[test]
    fn the_strongest_standing_in_force_applies_and_expired_ones_do_not() {
        let now = 1_000;
        assert_eq!(enforcement(&[], now), None);
        let all = [
            standing(Step::Premoderate, None),
            standing(Step::Ban, Some(now)), // ended just now
            standing(Step::Suspend, Some(now + 5)),
        ];
        assert_eq!(
            enforcement(&all, now),
            Some(Enforcement::Suspended {
                until: now + 5,
                reason: "suspend reason".into()
            })
        );
        assert_eq!(
            enforcement(&all, now + 5),
            Some(Enforcement::Premoderated {
                reason: "premoderate reason".into()
            })
        );
        assert_eq!(
            enforcement(&[standing(Step::Suspend, None)], now),
            Some(Enforcement::Banned {
                reason: "suspend reason".into()
            })
        );
        assert_eq!(
            enforcement(
                &[standing(Step::ShadowBan, None), standing(Step::Warn, None)],
                now
            ),
            Some(Enforcement::Shadow)
        );
    }

    #[test]
    fn a_warning_is_given_once() {
        let now = 10;
        let mut w = standing(Step::Warn, None);
        assert_eq!(
            enforcement(std::slice::from_ref(&w), now),
            Some(Enforcement::Warned {
                reason: "warn reason".into(),
                keys: vec![CommenterKey::Address("ab".into())]
            })
        );
        // Alone or beside a standing that does not refuse or hold.
        assert!(matches!(
            enforcement(&[w.clone(), standing(Step::Ban, Some(now))], now),
            Some(Enforcement::Warned { .. })
        ));
        w.warned = true;
        assert_eq!(enforcement(&[w], now), None);
        assert_eq!(enforcement(&[standing(Step::Warn, Some(now))], now), None);
    }
}
