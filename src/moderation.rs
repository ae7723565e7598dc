//! Moderation decisions: a pure function from a comment and its site's
//! settings to a status and the reasons for it.
//!
//! For now the rules are the site's mode and its link limit; every decision
//! says why, so a moderator never has to guess.

use crate::comment::Status;
use crate::config::ModerationMode;

/// What the rules decided, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The status the comment gets.
    pub status: Status,
    /// Human-readable reasons ("held: 3 links, limit 2"); empty when
    /// published without remark.
    pub reasons: Vec<String>,
}

/// The site settings the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The site's mode.
    pub mode: ModerationMode,
    /// Hold comments with this many links or more (0: never).
    pub hold_links: u32,
}

/// Decides the status of a new comment from its rendered HTML.
pub fn decide(html: &str, settings: Settings) -> Decision {
    match settings.mode {
        ModerationMode::Publish => Decision {
            status: Status::Published,
            reasons: Vec::new(),
        },
        ModerationMode::Hold => Decision {
            status: Status::Pending,
            reasons: vec!["held: this site holds every comment for moderation".to_owned()],
        },
        ModerationMode::Rules => {
            let links = count_links(html);
            if settings.hold_links > 0 && links >= settings.hold_links as usize {
                Decision {
                    status: Status::Pending,
                    reasons: vec![format!(
                        "held: {links} links, limit {}",
                        settings.hold_links
                    )],
                }
            } else {
                Decision {
                    status: Status::Published,
                    reasons: Vec::new(),
                }
            }
        }
    }
}

/// Links in rendered (canonical) HTML.
pub fn count_links(html: &str) -> usize {
    html.matches("<a ").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Settings = Settings {
        mode: ModerationMode::Rules,
        hold_links: 2,
    };

    #[test]
    fn an_ordinary_comment_is_published() {
        assert_eq!(
            decide("<p>hi <a href=\"x\">x</a></p>", RULES).status,
            Status::Published
        );
    }

    #[test]
    fn two_links_hold_a_comment_and_say_why() {
        let d = decide(
            "<a href=\"a\">a</a> <a href=\"b\">b</a> <a href=\"c\">c</a>",
            RULES,
        );
        assert_eq!(d.status, Status::Pending);
        assert_eq!(d.reasons, ["held: 3 links, limit 2"]);
    }

    #[test]
    fn hold_mode_holds_everything_and_publish_mode_nothing() {
        let hold = Settings {
            mode: ModerationMode::Hold,
            hold_links: 2,
        };
        assert_eq!(decide("<p>x</p>", hold).status, Status::Pending);
        let publish = Settings {
            mode: ModerationMode::Publish,
            hold_links: 2,
        };
        assert_eq!(
            decide(&"<a href=\"a\">a</a>".repeat(9), publish).status,
            Status::Published
        );
    }

    #[test]
    fn a_zero_limit_never_holds() {
        let s = Settings {
            mode: ModerationMode::Rules,
            hold_links: 0,
        };
        assert_eq!(
            decide(&"<a href=\"a\">a</a>".repeat(9), s).status,
            Status::Published
        );
    }
}
