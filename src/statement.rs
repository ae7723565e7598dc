//! Statements of reasons (EU Digital Services Act, arts. 16, 17, 20 and
//! 24): what a removal or restriction of a comment tells its author — the
//! decision, the facts, the ground, whether it was automated, and how to
//! seek redress — with the author's appeal, and the counts a transparency
//! report publishes.

use std::collections::BTreeMap;

use serde::Serialize;

/// What was decided about a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Marked as spam (not shown).
    Spam,
    /// Moved to the trash (rejected; not shown).
    Trash,
    /// Held for review after it was published (not shown meanwhile).
    Hold,
    /// Deleted for good.
    Delete,
}

impl Decision {
    /// As stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Spam => "spam",
            Decision::Trash => "trash",
            Decision::Hold => "hold",
            Decision::Delete => "delete",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Decision> {
        [
            Decision::Spam,
            Decision::Trash,
            Decision::Hold,
            Decision::Delete,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    /// The ground a decision rests on when the moderator names none: the
    /// clause of the site's terms it applies.
    pub fn default_ground(self) -> &'static str {
        match self {
            Decision::Spam => {
                "terms of use: no spam, advertising or manipulation of the discussion"
            }
            Decision::Hold => "terms of use: comments may be held for review by the moderators",
            Decision::Trash | Decision::Delete => {
                "terms of use: the site's community rules for comments"
            }
        }
    }

    /// What the decision does, in a sentence for the author.
    pub fn effect(self) -> &'static str {
        match self {
            Decision::Spam => "The comment was marked as spam and is not shown to readers.",
            Decision::Trash => "The comment was rejected and is not shown to readers.",
            Decision::Hold => {
                "The comment was taken off the page and held for review by the moderators."
            }
            Decision::Delete => "The comment was removed for good.",
        }
    }
}

/// How an author can contest a decision (art. 17(3)(f)).
pub const REDRESS: &str =
    "You can appeal once to the site's moderators, who will look at the decision again; \
     you can also turn to a certified out-of-court dispute settlement body (DSA art. 21) \
     or to the courts.";

/// A stored statement of reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Unique id (time-ordered).
    pub id: i64,
    /// The site.
    pub site: String,
    /// The comment it concerns (which may be gone, for a deletion).
    pub comment_id: i64,
    /// Its thread.
    pub thread: String,
    /// What was decided.
    pub decision: Decision,
    /// The facts and circumstances relied on.
    pub facts: String,
    /// The ground: a clause of the terms, or a law.
    pub ground: String,
    /// Whether the decision was taken by automated means.
    pub automated: bool,
    /// How to seek redress.
    pub redress: String,
    /// Who decided (`rules`, `token:…`), as the audit log names them.
    pub actor: String,
    /// When the handling began: the comment's post (or last edit), or the
    /// first report about it (ms).
    pub began: i64,
    /// When it was decided (ms).
    pub created: i64,
    /// The author's appeal, if any.
    pub appeal: Option<Appeal>,
}

/// An author's appeal of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    /// What the author wrote.
    pub text: String,
    /// When (ms).
    pub created: i64,
    /// When a moderator's next decision closed it (ms), and what it was.
    pub closed: Option<(i64, String)>,
}

/// What a moderator may add to a decision's statement: the facts in their
/// words, and the clause or law it rests on (else the decision's default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    /// Facts and circumstances, in the moderator's words.
    pub facts: Option<String>,
    /// The ground: a clause of the terms, or a law.
    pub ground: Option<String>,
}

/// The longest note field, in characters.
pub const MAX_NOTE_CHARS: usize = 1_000;

impl Note {
    /// Checks a moderator's note: each field one line of at most
    /// [`MAX_NOTE_CHARS`] characters; blank is none.
    ///
    /// # Errors
    /// [`crate::error::Error::Invalid`] naming `reason` or `ground`.
    pub fn parse(facts: Option<&str>, ground: Option<&str>) -> Result<Note, crate::error::Error> {
        let one = |field: &str, v: Option<&str>| -> Result<Option<String>, crate::error::Error> {
            let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            let n = v.chars().count();
            if n > MAX_NOTE_CHARS {
                return Err(crate::error::Error::invalid(
                    field,
                    format!("has {n} characters; the limit is {MAX_NOTE_CHARS}"),
                ));
            }
            if v.chars().any(char::is_control) {
                return Err(crate::error::Error::invalid(
                    field,
                    "may not contain control characters or line breaks",
                ));
            }
            Ok(Some(v.to_owned()))
        };
        Ok(Note {
            facts: one("reason", facts)?,
            ground: one("ground", ground)?,
        })
    }
}

/// The longest appeal, in characters.
pub const MAX_APPEAL_CHARS: usize = 5_000;

/// One decision as a transparency report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// What was decided.
    pub decision: Decision,
    /// Its ground.
    pub ground: String,
    /// Automated or not.
    pub automated: bool,
    /// From the start of handling to the decision (ms).
    pub handling_ms: i64,
    /// Appealed, and whether the appeal is closed.
    pub appealed: bool,
}

/// A transparency report for a site and period (DSA art. 24 / 15).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transparency {
    /// Decisions in all.
    pub total: u64,
    /// By decision.
    pub by_decision: BTreeMap<String, u64>,
    /// By ground (reason).
    pub by_ground: BTreeMap<String, u64>,
    /// Automated decisions.
    pub automated: u64,
    /// Decisions by a person.
    pub manual: u64,
    /// Decisions appealed.
    pub appealed: u64,
    /// Median time from post or report to decision, in seconds (null
    /// without decisions).
    pub median_handling_secs: Option<f64>,
}

impl Transparency {
    /// The report of these decisions.
    pub fn of(decisions: &[Counted]) -> Transparency {
        let mut r = Transparency::default();
        let mut times: Vec<i64> = Vec::with_capacity(decisions.len());
        for d in decisions {
            r.total += 1;
            *r.by_decision
                .entry(d.decision.as_str().to_owned())
                .or_default() += 1;
            *r.by_ground.entry(d.ground.clone()).or_default() += 1;
            if d.automated {
                r.automated += 1;
            } else {
                r.manual += 1;
            }
            if d.appealed {
                r.appealed += 1;
            }
            times.push(d.handling_ms.max(0));
        }
        times.sort_unstable();
        #[allow(clippy::cast_precision_loss)]
        let median_ms = match times.len() {
            0 => None,
            n if n % 2 == 1 => Some(times[n / 2] as f64),
            n => Some((times[n / 2 - 1] as f64 + times[n / 2] as f64) / 2.0),
        };
        r.median_handling_secs = median_ms.map(|ms| ms / 1000.0);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(decision: Decision, automated: bool, handling_ms: i64) -> Counted {
        Counted {
            decision,
            ground: decision.default_ground().to_owned(),
            automated,
            handling_ms,
            appealed: false,
        }
    }

    #[test]
    fn a_report_counts_and_takes_the_median() {
        let r = Transparency::of(&[
            counted(Decision::Spam, true, 0),
            counted(Decision::Trash, false, 4_000),
            counted(Decision::Trash, false, 10_000),
            counted(Decision::Delete, false, 60_000),
        ]);
        assert_eq!(r.total, 4);
        assert_eq!(r.by_decision.get("trash"), Some(&2));
        assert_eq!((r.automated, r.manual), (1, 3));
        assert_eq!(r.median_handling_secs, Some(7.0));
        assert_eq!(Transparency::of(&[]).median_handling_secs, None);
        for d in [
            Decision::Spam,
            Decision::Trash,
            Decision::Hold,
            Decision::Delete,
        ] {
            assert_eq!(Decision::parse(d.as_str()), Some(d));
        }
    }
}
