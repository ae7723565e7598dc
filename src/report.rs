//! Reader reports: why a reader reports a comment, what an `illegal`
//! report must state (the EU Digital Services Act's notice and action),
//! how much one reader's report weighs, and when reports hold a comment.
//!
//! Pure rules: the service gathers the facts (the reader's dismissed
//! reports, their standing) and stores what these decide.

use serde::{Deserialize, Serialize};

/// Longest free text of a report, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Longest `law` of an `illegal` report, in characters.
pub const MAX_LAW_CHARS: usize = 300;

/// Why a reader reports a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Advertising, scams, link farming.
    Spam,
    /// Insults, harassment, hate.
    Abusive,
    /// Nothing to do with the article.
    OffTopic,
    /// Against the law: needs a statement of which law and why.
    Illegal,
    /// Anything else (say what in `text`).
    Other,
}

impl Reason {
    /// Every reason, in the order the embed offers them.
    pub const ALL: [Reason; 5] = [
        Reason::Spam,
        Reason::Abusive,
        Reason::OffTopic,
        Reason::Illegal,
        Reason::Other,
    ];

    /// The reason as sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Spam => "spam",
            Reason::Abusive => "abusive",
            Reason::OffTopic => "off_topic",
            Reason::Illegal => "illegal",
            Reason::Other => "other",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A report's checked statement: the reason, and for `illegal` the law
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Why.
    pub reason: Reason,
    /// Which law (required for `illegal`).
    pub law: Option<String>,
    /// What is wrong, in the reader's words (required for `illegal`).
    pub text: Option<String>,
}

fn trimmed(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Checks a report's fields.
///
/// # Errors
/// `(field, message)`: text too long, control characters, or an `illegal`
/// report without the law it breaks and why.
pub fn statement(
    reason: Reason,
    law: Option<&str>,
    text: Option<&str>,
) -> Result<Statement, (&'static str, String)> {
    let law = trimmed(law);
    let text = trimmed(text);
    for (field, value, max) in [
        ("law", &law, MAX_LAW_CHARS),
        ("text", &text, MAX_TEXT_CHARS),
    ] {
        if let Some(v) = value {
            let chars = v.chars().count();
            if chars > max {
                return Err((field, format!("{chars} characters; at most {max}")));
            }
            if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err((field, "contains control characters".to_owned()));
            }
        }
    }
    if reason == Reason::Illegal {
        if law.is_none() {
            return Err((
                "law",
                "an illegal-content report names the law the comment breaks (country and law)"
                    .to_owned(),
            ));
        }
        if text.is_none() {
            return Err((
                "text",
                "an illegal-content report explains why the comment breaks that law".to_owned(),
            ));
        }
    } else if law.is_some() {
        return Err(("law", "only an `illegal` report names a law".to_owned()));
    }
    Ok(Statement { reason, law, text })
}

/// What is known of a reporting reader when their report comes in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reporter {
    /// Their earlier reports on this site that moderators dismissed.
    pub dismissed: u64,
    /// Signed in as the site's moderator or admin.
    pub staff: bool,
    /// Their published comments on this site.
    pub published: u64,
}

/// Dismissed reports from which a reader's reports count half.
pub const DISMISSED_FOR_HALF: u64 = 2;
/// Dismissed reports from which a reader's reports count a quarter.
pub const DISMISSED_FOR_QUARTER: u64 = 5;
/// Published comments that make a reader trusted.
pub const PUBLISHED_FOR_TRUST: u64 = 2;

/// A report's weight in quarters of a reader (4: one reader), so sums stay
/// exact integers.
///
/// - 2 or more earlier reports dismissed by moderators: 0.5 (5 or more:
///   0.25), whatever else is known; a reader who keeps crying wolf cannot
///   hold comments alone.
/// - a signed-in moderator or admin of the site, or a reader with 2 or
///   more published comments on the site: 1.5.
/// - anybody else: 1.
pub fn weight(r: &Reporter) -> u32 {
    if r.dismissed >= DISMISSED_FOR_QUARTER {
        1
    } else if r.dismissed >= DISMISSED_FOR_HALF {
        2
    } else if r.staff || r.published >= PUBLISHED_FOR_TRUST {
        6
    } else {
        4
    }
}

/// A weight in quarters as a number of readers (`1.5`).
pub fn readers(quarters: u32) -> f64 {
    f64::from(quarters) / 4.0
}

/// One open (not dismissed) report on a comment, as the threshold sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    /// Its weight, in quarters.
    pub weight: u32,
    /// Its reason.
    pub reason: Reason,
}

/// The hold reason when a published comment's open reports (one per
/// reader) reach the site's threshold of weighted readers; `None` below it
/// or when the threshold is 0 (reports never hold).
pub fn hold_reason(open: &[Open], threshold: u32) -> Option<String> {
    if threshold == 0 || open.is_empty() {
        return None;
    }
    let sum: u64 = open.iter().map(|o| u64::from(o.weight)).sum();
    if sum < u64::from(threshold) * 4 {
        return None;
    }
    let mut reasons: Vec<Reason> = open.iter().map(|o| o.reason).collect();
    reasons.sort_by_key(|r| r.as_str());
    reasons.dedup();
    let names: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    let n = open.len();
    let plural = if n == 1 { "" } else { "s" };
    Some(format!(
        "held: reported by {n} reader{plural} ({})",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(weight: u32, reason: Reason) -> Open {
        Open { weight, reason }
    }

    #[test]
    fn weights_favour_trusted_readers_and_discount_dismissed_ones() {
        assert_eq!(weight(&Reporter::default()), 4);
        let trusted = Reporter {
            published: 2,
            ..Reporter::default()
        };
        assert_eq!(weight(&trusted), 6);
        let staff = Reporter {
            staff: true,
            ..Reporter::default()
        };
        assert_eq!(weight(&staff), 6);
        let one = Reporter {
            dismissed: 1,
            ..Reporter::default()
        };
        assert_eq!(weight(&one), 4);
        // Dismissals win over trust.
        let wolf = Reporter {
            dismissed: 2,
            staff: true,
            published: 10,
        };
        assert_eq!(weight(&wolf), 2);
        let worse = Reporter {
            dismissed: 5,
            ..Reporter::default()
        };
        assert_eq!(weight(&worse), 1);
        assert!((readers(6) - 1.5).abs() < f64::EPSILON);
    }

    #[test]
    fn the_threshold_counts_weighted_readers_and_names_reasons_once_sorted() {
        let three = [
            open(4, Reason::Spam),
            open(4, Reason::Abusive),
            open(4, Reason::Spam),
        ];
        assert_eq!(
            hold_reason(&three, 3).as_deref(),
            Some("held: reported by 3 readers (abusive, spam)")
        );
        assert_eq!(hold_reason(&three[..2], 3), None);
        assert_eq!(hold_reason(&three, 0), None, "0: reports never hold");
        // Two trusted readers are three readers' weight.
        let trusted = [open(6, Reason::OffTopic), open(6, Reason::OffTopic)];
        assert_eq!(
            hold_reason(&trusted, 3).as_deref(),
            Some("held: reported by 2 readers (off_topic)")
        );
        // Three discounted readers are not enough.
        let wolves = [open(2, Reason::Spam); 3];
        assert_eq!(hold_reason(&wolves, 3), None);
        assert_eq!(
            hold_reason(&[open(4, Reason::Other)], 1).as_deref(),
            Some("held: reported by 1 reader (other)")
        );
    }

    #[test]
    fn illegal_reports_state_the_law_and_why() {
        assert_eq!(
            statement(Reason::Illegal, None, Some("x")).map_err(|e| e.0),
            Err("law")
        );
        assert_eq!(
            statement(Reason::Illegal, Some("DE StGB §130"), Some("  ")).map_err(|e| e.0),
            Err("text")
        );
        let ok = statement(
            Reason::Illegal,
            Some(" DE StGB §130 "),
            Some("incites hatred"),
        );
        assert_eq!(ok.map(|s| s.law), Ok(Some("DE StGB §130".to_owned())));
        assert_eq!(
            statement(Reason::Spam, Some("law"), None).map_err(|e| e.0),
            Err("law")
        );
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            statement(Reason::Other, None, Some(&long)).map_err(|e| e.0),
            Err("text")
        );
        assert_eq!(
            statement(Reason::Other, None, Some("a\u{0}b")).map_err(|e| e.0),
            Err("text")
        );
        assert_eq!(
            statement(Reason::Spam, None, None),
            Ok(Statement {
                reason: Reason::Spam,
                law: None,
                text: None
            })
        );
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
    }
}
