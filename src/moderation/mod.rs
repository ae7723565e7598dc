//! Moderation decisions: a pure function from a new comment, its site's
//! settings and what is known of its author and thread to either a refusal
//! or a status with the reasons for it.
//!
//! No I/O happens here: the service gathers the facts (author history,
//! thread age, reply depth, form timing) and stores what this decides, so
//! every rule is unit-tested on plain values and every decision can be
//! explained to a moderator.

pub mod keys;
pub mod settings;
pub mod transition;

pub use keys::KeyList;
pub use settings::{Anonymous, FormChecks, ModerationMode, ScoreThreshold, SiteRules};
pub use transition::{transition, Action, Prior, Transition};

use crate::comment::Status;
use crate::commenter::Enforcement;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// What the rules decided, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The status the comment gets.
    pub status: Status,
    /// Sentences saying why ("held: 3 links, limit 2"); never empty.
    pub reasons: Vec<String>,
}

/// A comment the rules refuse to store at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A field breaks a limit: the request is invalid (422).
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong, for a person to fix.
        message: String,
    },
    /// The thread no longer takes comments (403).
    Closed(String),
    /// Moderators banned the commenter (403).
    Banned(String),
    /// Moderators suspended the commenter until a time (403).
    Suspended {
        /// When it ends (ms).
        until: i64,
        /// The moderators' reason.
        reason: String,
    },
}

/// The site settings the rules read.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The site's mode.
    pub mode: ModerationMode,
    /// Hold comments with this many links or more (0: never).
    pub hold_links: u32,
    /// The further rules.
    pub rules: &'a SiteRules,
}

/// The new comment, as submitted and as rendered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Candidate<'a> {
    /// The raw text.
    pub body: &'a str,
    /// The rendered, safe HTML.
    pub html: &'a str,
    /// Author name.
    pub author: Option<&'a str>,
    /// Author e-mail.
    pub email: Option<&'a str>,
    /// Author homepage.
    pub homepage: Option<&'a str>,
    /// The client address, as text (keys may name IPs).
    pub ip: Option<&'a str>,
    /// For IPv6, the client's network as well (`2001:db8:1:2::/64`): one
    /// person's connection, which a key may name instead.
    pub ip_network: Option<&'a str>,
}

/// Facts the service looked up for the rules.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Published comments on this site with the author's e-mail.
    pub approved_by_author: u64,
    /// When the thread got its first comment (ms), if it has one.
    pub thread_started: Option<i64>,
    /// Nesting level of the parent (1: a top-level comment); `None` for a
    /// top-level post.
    pub parent_depth: Option<u32>,
    /// Present for posts the form checks apply to (the site's
    /// `form_checks`).
    pub form: Option<FormFacts>,
    /// The local spam model's verdict, when the site scores comments.
    pub spam: Option<SpamScore>,
    /// What the commenter's standing (the enforcement ladder) does to
    /// this post, if anything.
    pub commenter: Option<crate::commenter::Enforcement>,
    /// Now (ms).
    pub now: i64,
}

/// What the spam model said of a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamScore {
    /// Spam probability, 0 to 1.
    pub probability: f32,
    /// The score and what pushed it, for the reason: `spam score 0.94
    /// (links to casino.example; words: casino, bonus)`.
    pub explained: String,
}

/// What a checked post says about who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormFacts {
    /// The hidden honeypot field was filled in.
    pub honeypot_filled: bool,
    /// Milliseconds between issuing the form stamp and this post; `None`
    /// when the stamp is missing, forged or expired.
    pub age_ms: Option<i64>,
}

/// Applies every rule to a new comment.
///
/// # Errors
/// A [`Refusal`] when the comment breaks a hard limit (length, reply
/// depth) or the thread has closed itself.
pub fn decide(c: &Candidate<'_>, s: Settings<'_>, f: &Facts) -> Result<Decision, Refusal> {
    refuse(c, s, f)?;
    if let Some(reason) = spam_reason(c, s, f) {
        return Ok(Decision {
            status: Status::Spam,
            reasons: vec![reason],
        });
    }
    // The ladder holds whatever the site's mode (refusals came first).
    match &f.commenter {
        Some(Enforcement::Shadow) => {
            return Ok(Decision {
                status: Status::Pending,
                reasons: vec![crate::commenter::SHADOW_REASON.to_owned()],
            })
        }
        Some(Enforcement::Premoderated { reason }) => {
            return Ok(Decision {
                status: Status::Pending,
                reasons: vec![format!("held: the commenter is pre-moderated ({reason})")],
            })
        }
        _ => {}
    }
    match s.mode {
        ModerationMode::Publish => Ok(published("published: this site publishes every comment")),
        ModerationMode::Hold => Ok(Decision {
            status: Status::Pending,
            reasons: vec!["held: this site holds every comment for moderation".to_owned()],
        }),
        ModerationMode::Rules => {
            if s.rules.trust_approved_authors && f.approved_by_author > 0 {
                let n = f.approved_by_author;
                let plural = if n == 1 { "" } else { "s" };
                return Ok(published(&format!(
                    "published: trusted author, {n} earlier comment{plural} approved"
                )));
            }
            let reasons = hold_reasons(c, s, f);
            if reasons.is_empty() {
                Ok(published("published: no rule held it"))
            } else {
                Ok(Decision {
                    status: Status::Pending,
                    reasons,
                })
            }
        }
    }
}

fn published(reason: &str) -> Decision {
    Decision {
        status: Status::Published,
        reasons: vec![reason.to_owned()],
    }
}

fn refuse(c: &Candidate<'_>, s: Settings<'_>, f: &Facts) -> Result<(), Refusal> {
    match &f.commenter {
        Some(Enforcement::Banned { reason }) => return Err(Refusal::Banned(reason.clone())),
        Some(Enforcement::Suspended { until, reason }) => {
            return Err(Refusal::Suspended {
                until: *until,
                reason: reason.clone(),
            })
        }
        _ => {}
    }
    let rules = s.rules;
    if rules.max_chars > 0 {
        let chars = c.body.chars().count();
        if chars > rules.max_chars as usize {
            return Err(Refusal::Invalid {
                field: "body",
                message: format!(
                    "the comment has {chars} characters; this site takes at most {}",
                    rules.max_chars
                ),
            });
        }
    }
    if let (Some(depth), true) = (f.parent_depth, rules.max_depth > 0) {
        if depth >= rules.max_depth {
            return Err(Refusal::Invalid {
                field: "parent",
                message: if rules.max_depth == 1 {
                    "this site takes no replies; post a top-level comment".to_owned()
                } else {
                    format!(
                        "replies nest at most {} levels deep here; reply to a comment higher up",
                        rules.max_depth
                    )
                },
            });
        }
    }
    if let (Some(started), true) = (f.thread_started, rules.close_after_days > 0) {
        let days = i64::from(rules.close_after_days);
        if f.now >= started + days * DAY_MS {
            let plural = if days == 1 { "" } else { "s" };
            return Err(Refusal::Closed(format!(
                "this thread closed automatically {days} day{plural} after its first comment: it takes no new comments"
            )));
        }
    }
    Ok(())
}

/// Fields the key lists look at, with their names for reasons.
fn fields<'a>(c: &Candidate<'a>) -> [(&'static str, Option<&'a str>); 6] {
    [
        ("body", Some(c.body)),
        ("name", c.author),
        ("e-mail", c.email),
        ("homepage", c.homepage),
        ("IP", c.ip),
        ("IP", c.ip_network),
    ]
}

fn find_key<'k>(list: &'k KeyList, c: &Candidate<'_>) -> Option<(&'k str, &'static str)> {
    if list.is_empty() {
        return None;
    }
    fields(c)
        .into_iter()
        .find_map(|(name, text)| list.find(text?).map(|key| (key, name)))
}

fn spam_reason(c: &Candidate<'_>, s: Settings<'_>, f: &Facts) -> Option<String> {
    if let Some((key, field)) = find_key(&s.rules.disallowed_keys, c) {
        return Some(format!("spam: matched disallowed key '{key}' in {field}"));
    }
    match f.form {
        Some(form) if s.rules.honeypot && form.honeypot_filled => {
            return Some("spam: the hidden honeypot field was filled in".to_owned());
        }
        _ => {}
    }
    match &f.spam {
        Some(score) if s.rules.scoring && s.rules.spam_score.reached_by(score.probability) => {
            Some(format!("spam: {}", score.explained))
        }
        _ => None,
    }
}

fn hold_reasons(c: &Candidate<'_>, s: Settings<'_>, f: &Facts) -> Vec<String> {
    let mut reasons = Vec::new();
    let links = count_links(c.html);
    if s.hold_links > 0 && links >= s.hold_links as usize {
        reasons.push(format!("held: {links} links, limit {}", s.hold_links));
    }
    if let Some((key, field)) = find_key(&s.rules.moderation_keys, c) {
        reasons.push(format!("held: matched moderation key '{key}' in {field}"));
    }
    if let Some(score) = &f.spam {
        if s.rules.scoring && s.rules.hold_score.reached_by(score.probability) {
            reasons.push(format!("held: {}", score.explained));
        }
    }
    let min_ms = i64::from(s.rules.min_submit_secs) * 1000;
    match f.form {
        Some(form) if min_ms > 0 => match form.age_ms {
            None => reasons
                .push("held: the form's time stamp is missing, expired or invalid".to_owned()),
            Some(age) if age < min_ms => reasons.push(format!(
                "held: sent {:.1} s after the form was shown, minimum {} s",
                age.max(0) as f64 / 1000.0,
                s.rules.min_submit_secs
            )),
            Some(_) => {}
        },
        _ => {}
    }
    reasons
}

/// Links in rendered (canonical) HTML.
pub fn count_links(html: &str) -> usize {
    html.matches("<a ").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> SiteRules {
        SiteRules::default()
    }

    fn settings(r: &SiteRules) -> Settings<'_> {
        Settings {
            mode: ModerationMode::Rules,
            hold_links: 2,
            rules: r,
        }
    }

    fn body(b: &'static str) -> Candidate<'static> {
        Candidate {
            body: b,
            html: b,
            ..Candidate::default()
        }
    }

    fn keys(k: &[&str]) -> KeyList {
        KeyList::new(k.iter().map(|s| (*s).to_owned()).collect()).unwrap_or_default()
    }

    fn ok(d: Result<Decision, Refusal>) -> Decision {
        d.unwrap_or_else(|r| Decision {
            status: Status::Trash,
            reasons: vec![format!("refused: {r:?}")],
        })
    }

    const LINKS3: &str = "<a href=\"a\">a</a> <a href=\"b\">b</a> <a href=\"c\">c</a>";

    fn scored(probability: f32) -> Facts {
        Facts {
            spam: Some(SpamScore {
                probability,
                explained: format!("spam score {probability:.2} (words: casino)"),
            }),
            ..Facts::default()
        }
    }

    #[test]
    fn a_spam_score_holds_or_marks_spam_only_where_the_site_scores() {
        let mut r = rules();
        // Scoring off: the score is ignored.
        let d = ok(decide(&body("x"), settings(&r), &scored(0.99)));
        assert_eq!(d.status, Status::Published);
        r.scoring = true;
        let d = ok(decide(&body("x"), settings(&r), &scored(0.2)));
        assert_eq!(d.status, Status::Published);
        let d = ok(decide(&body("x"), settings(&r), &scored(0.6)));
        assert_eq!(d.status, Status::Pending);
        assert_eq!(d.reasons, ["held: spam score 0.60 (words: casino)"]);
        let d = ok(decide(&body("x"), settings(&r), &scored(0.98)));
        assert_eq!(d.status, Status::Spam);
        assert_eq!(d.reasons, ["spam: spam score 0.98 (words: casino)"]);
        // Spam in every mode, like disallowed keys; holding only by rules.
        for mode in [ModerationMode::Publish, ModerationMode::Hold] {
            let s = Settings {
                mode,
                ..settings(&r)
            };
            assert_eq!(
                ok(decide(&body("x"), s, &scored(0.98))).status,
                Status::Spam
            );
        }
        let publish = Settings {
            mode: ModerationMode::Publish,
            ..settings(&r)
        };
        assert_eq!(
            ok(decide(&body("x"), publish, &scored(0.6))).status,
            Status::Published
        );
        // The thresholds are the site's.
        r.hold_score = ScoreThreshold(0.9);
        assert_eq!(
            ok(decide(&body("x"), settings(&r), &scored(0.6))).status,
            Status::Published
        );
    }

    #[test]
    fn score_thresholds_are_probabilities_in_order() {
        let mut r = rules();
        r.hold_score = ScoreThreshold(1.5);
        assert_eq!(r.check().map_err(|e| e.0), Err("hold_score"));
        r.hold_score = ScoreThreshold(0.99);
        r.spam_score = ScoreThreshold(0.9);
        assert_eq!(r.check().map_err(|e| e.0), Err("hold_score"));
        r.hold_score = ScoreThreshold(0.5);
        r.spam_score = ScoreThreshold(f64::NAN);
        assert_eq!(r.check().map_err(|e| e.0), Err("spam_score"));
    }

    #[test]
    fn the_commenters_standing_refuses_or_holds_in_every_mode() {
        let mut r = rules();
        r.trust_approved_authors = true;
        r.disallowed_keys = keys(&["casino"]);
        let with = |e: Enforcement| Facts {
            commenter: Some(e),
            approved_by_author: 5,
            ..Facts::default()
        };
        for mode in [
            ModerationMode::Publish,
            ModerationMode::Hold,
            ModerationMode::Rules,
        ] {
            let s = Settings {
                mode,
                ..settings(&r)
            };
            let banned = decide(
                &body("x"),
                s,
                &with(Enforcement::Banned {
                    reason: "bot".into(),
                }),
            );
            assert_eq!(banned, Err(Refusal::Banned("bot".into())));
            let suspended = decide(
                &body("x"),
                s,
                &with(Enforcement::Suspended {
                    until: 9,
                    reason: "calm".into(),
                }),
            );
            assert_eq!(
                suspended,
                Err(Refusal::Suspended {
                    until: 9,
                    reason: "calm".into()
                })
            );
            // Trust does not skip them.
            let shadow = ok(decide(&body("x"), s, &with(Enforcement::Shadow)));
            assert_eq!(shadow.status, Status::Pending);
            assert_eq!(shadow.reasons, [crate::commenter::SHADOW_REASON]);
            let held = ok(decide(
                &body("x"),
                s,
                &with(Enforcement::Premoderated {
                    reason: "new".into(),
                }),
            ));
            assert_eq!(held.status, Status::Pending);
            assert_eq!(held.reasons, ["held: the commenter is pre-moderated (new)"]);
            // Spam rules come first; a warning changes no decision.
            let spam = ok(decide(&body("casino"), s, &with(Enforcement::Shadow)));
            assert_eq!(spam.status, Status::Spam);
            let warned = with(Enforcement::Warned {
                reason: "w".into(),
                keys: vec![],
            });
            let plain = Facts {
                approved_by_author: 5,
                ..Facts::default()
            };
            assert_eq!(
                ok(decide(&body("x"), s, &warned)),
                ok(decide(&body("x"), s, &plain))
            );
        }
    }

    #[test]
    fn an_ordinary_comment_is_published_and_says_so() {
        let r = rules();
        let d = ok(decide(
            &body("<p>hi <a href=\"x\">x</a></p>"),
            settings(&r),
            &Facts::default(),
        ));
        assert_eq!(d.status, Status::Published);
        assert_eq!(d.reasons, ["published: no rule held it"]);
    }

    #[test]
    fn links_at_the_limit_hold_a_comment_and_say_why() {
        let r = rules();
        let d = ok(decide(&body(LINKS3), settings(&r), &Facts::default()));
        assert_eq!(d.status, Status::Pending);
        assert_eq!(d.reasons, ["held: 3 links, limit 2"]);
        let two = "<a href=\"a\">a</a><a href=\"b\">b</a>";
        assert_eq!(
            ok(decide(&body(two), settings(&r), &Facts::default())).status,
            Status::Pending
        );
    }

    #[test]
    fn a_zero_link_limit_never_holds() {
        let r = rules();
        let s = Settings {
            hold_links: 0,
            ..settings(&r)
        };
        assert_eq!(
            ok(decide(&body(LINKS3), s, &Facts::default())).status,
            Status::Published
        );
    }

    #[test]
    fn hold_mode_holds_everything_and_publish_mode_nothing() {
        let r = rules();
        let hold = Settings {
            mode: ModerationMode::Hold,
            ..settings(&r)
        };
        let d = ok(decide(&body("<p>x</p>"), hold, &Facts::default()));
        assert_eq!(d.status, Status::Pending);
        assert_eq!(
            d.reasons,
            ["held: this site holds every comment for moderation"]
        );
        let publish = Settings {
            mode: ModerationMode::Publish,
            ..settings(&r)
        };
        assert_eq!(
            ok(decide(&body(LINKS3), publish, &Facts::default())).status,
            Status::Published
        );
    }

    #[test]
    fn moderation_keys_hold_and_name_the_key_and_field() {
        let r = SiteRules {
            moderation_keys: keys(&["bitcoin", "/^10\\.0\\./"]),
            ..rules()
        };
        let d = ok(decide(
            &body("Buy BITCOIN now"),
            settings(&r),
            &Facts::default(),
        ));
        assert_eq!(d.status, Status::Pending);
        assert_eq!(
            d.reasons,
            ["held: matched moderation key 'bitcoin' in body"]
        );
        let c = Candidate {
            ip: Some("10.0.0.9"),
            ..body("hello")
        };
        let d = ok(decide(&c, settings(&r), &Facts::default()));
        assert_eq!(
            d.reasons,
            ["held: matched moderation key '/^10\\.0\\./' in IP"]
        );
        let c = Candidate {
            author: Some("Bitcoin Bob"),
            ..body("hello")
        };
        let d = ok(decide(&c, settings(&r), &Facts::default()));
        assert_eq!(
            d.reasons,
            ["held: matched moderation key 'bitcoin' in name"]
        );
    }

    #[test]
    fn every_hold_reason_is_listed() {
        let r = SiteRules {
            moderation_keys: keys(&["href"]),
            ..rules()
        };
        let d = ok(decide(&body(LINKS3), settings(&r), &Facts::default()));
        assert_eq!(
            d.reasons,
            [
                "held: 3 links, limit 2",
                "held: matched moderation key 'href' in body"
            ]
        );
    }

    #[test]
    fn disallowed_keys_send_to_spam_in_every_mode() {
        let r = SiteRules {
            disallowed_keys: keys(&["casino"]),
            ..rules()
        };
        for mode in [
            ModerationMode::Publish,
            ModerationMode::Hold,
            ModerationMode::Rules,
        ] {
            let s = Settings {
                mode,
                ..settings(&r)
            };
            let c = Candidate {
                email: Some("win@casino.example"),
                ..body("hi")
            };
            let d = ok(decide(&c, s, &Facts::default()));
            assert_eq!(d.status, Status::Spam);
            assert_eq!(
                d.reasons,
                ["spam: matched disallowed key 'casino' in e-mail"]
            );
        }
    }

    #[test]
    fn trusted_authors_skip_hold_rules_but_not_spam_rules() {
        let r = SiteRules {
            trust_approved_authors: true,
            disallowed_keys: keys(&["casino"]),
            ..rules()
        };
        let known = Facts {
            approved_by_author: 2,
            ..Facts::default()
        };
        let d = ok(decide(&body(LINKS3), settings(&r), &known));
        assert_eq!(d.status, Status::Published);
        assert_eq!(
            d.reasons,
            ["published: trusted author, 2 earlier comments approved"]
        );
        assert_eq!(
            ok(decide(&body("casino"), settings(&r), &known)).status,
            Status::Spam
        );
        // A stranger is still held, and the rule is off by default.
        assert_eq!(
            ok(decide(&body(LINKS3), settings(&r), &Facts::default())).status,
            Status::Pending
        );
        let off = rules();
        assert_eq!(
            ok(decide(&body(LINKS3), settings(&off), &known)).status,
            Status::Pending
        );
    }

    #[test]
    fn the_honeypot_marks_form_posts_as_spam() {
        let r = rules();
        let f = Facts {
            form: Some(FormFacts {
                honeypot_filled: true,
                age_ms: Some(60_000),
            }),
            ..Facts::default()
        };
        let d = ok(decide(&body("hi"), settings(&r), &f));
        assert_eq!(d.status, Status::Spam);
        assert_eq!(d.reasons, ["spam: the hidden honeypot field was filled in"]);
        let off = SiteRules {
            honeypot: false,
            ..rules()
        };
        assert_eq!(
            ok(decide(&body("hi"), settings(&off), &f)).status,
            Status::Published
        );
    }

    #[test]
    fn fast_or_unstamped_form_posts_are_held() {
        let r = rules();
        let form = |age_ms| Facts {
            form: Some(FormFacts {
                honeypot_filled: false,
                age_ms,
            }),
            ..Facts::default()
        };
        let d = ok(decide(&body("hi"), settings(&r), &form(Some(1_200))));
        assert_eq!(d.status, Status::Pending);
        assert_eq!(
            d.reasons,
            ["held: sent 1.2 s after the form was shown, minimum 3 s"]
        );
        let d = ok(decide(&body("hi"), settings(&r), &form(None)));
        assert_eq!(
            d.reasons,
            ["held: the form's time stamp is missing, expired or invalid"]
        );
        assert_eq!(
            ok(decide(&body("hi"), settings(&r), &form(Some(3_000)))).status,
            Status::Published
        );
        // Posts the form checks do not apply to are not timed.
        assert_eq!(
            ok(decide(&body("hi"), settings(&r), &Facts::default())).status,
            Status::Published
        );
    }

    #[test]
    fn over_long_comments_are_refused() {
        let r = SiteRules {
            max_chars: 5,
            ..rules()
        };
        assert_eq!(
            decide(&body("héllo"), settings(&r), &Facts::default()).map(|d| d.status),
            Ok(Status::Published)
        );
        let e = decide(&body("héllo!"), settings(&r), &Facts::default());
        assert_eq!(
            e,
            Err(Refusal::Invalid {
                field: "body",
                message: "the comment has 6 characters; this site takes at most 5".to_owned()
            })
        );
    }

    #[test]
    fn replies_deeper_than_the_limit_are_refused() {
        let r = SiteRules {
            max_depth: 3,
            ..rules()
        };
        let at = |d| Facts {
            parent_depth: Some(d),
            ..Facts::default()
        };
        assert!(decide(&body("x"), settings(&r), &at(2)).is_ok());
        assert!(matches!(
            decide(&body("x"), settings(&r), &at(3)),
            Err(Refusal::Invalid {
                field: "parent",
                ..
            })
        ));
        let flat = SiteRules {
            max_depth: 1,
            ..rules()
        };
        assert!(decide(&body("x"), settings(&flat), &at(1)).is_err());
        assert!(decide(&body("x"), settings(&flat), &Facts::default()).is_ok());
        let unlimited = SiteRules {
            max_depth: 0,
            ..rules()
        };
        assert!(decide(&body("x"), settings(&unlimited), &at(500)).is_ok());
    }

    #[test]
    fn threads_close_themselves_after_the_configured_days() {
        let r = SiteRules {
            close_after_days: 14,
            ..rules()
        };
        let started = 1_000_000;
        let at = |now| Facts {
            thread_started: Some(started),
            now,
            ..Facts::default()
        };
        assert!(decide(&body("x"), settings(&r), &at(started + 14 * DAY_MS - 1)).is_ok());
        assert!(matches!(
            decide(&body("x"), settings(&r), &at(started + 14 * DAY_MS)),
            Err(Refusal::Closed(m)) if m.contains("14 days after its first comment")
        ));
        // A new thread is open, and 0 means never.
        assert!(decide(
            &body("x"),
            settings(&r),
            &Facts {
                now: i64::MAX / 2,
                ..Facts::default()
            }
        )
        .is_ok());
        let never = rules();
        assert!(decide(&body("x"), settings(&never), &at(i64::MAX / 2)).is_ok());
    }
}
