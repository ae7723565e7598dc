//! Signed one-click links in notification e-mails.
//!
//! A link names a site, a comment, an action and an expiry time, and carries
//! an HMAC-SHA-256 of exactly those under the links' key (derived from the
//! master secret, see [`crate::keys`]). Nothing else is needed to act on
//! it, so the link must not be guessable, must not be reusable for another
//! comment or action, and stops working when it expires.
//!
//! Moderation links (approve, spam, trash) also sign the status the e-mail
//! was about (`from=pending`) and a nonce shared by the links of one mail
//! (`n=…`): a link acts only while the comment still has that status, and
//! the first use of any link of a mail uses the nonce up (see
//! `Store::act_on_link`). Unsubscribe and confirmation links are idempotent
//! and may be used again.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::comment::Status;
use crate::error::{Code, Error, Result};

/// How long moderation links work: a week.
pub const MODERATION_LINK_SECS: i64 = 7 * 24 * 3600;
/// How long unsubscribe links work: 90 days (mail is read late).
pub const UNSUBSCRIBE_LINK_SECS: i64 = 90 * 24 * 3600;
/// How long a subscription can be confirmed: a week.
pub const CONFIRM_LINK_SECS: i64 = 7 * 24 * 3600;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LinkAction {
    /// Publish a held comment.
    Approve,
    /// Mark it as spam.
    Spam,
    /// Move it to the trash.
    Trash,
    /// Stop every e-mail about replies to the comment's author, for good.
    Unsubscribe,
    /// Confirm that the comment's author wants e-mails about replies.
    Confirm,
}

impl LinkAction {
    /// The action as it appears in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Approve => "approve",
            LinkAction::Spam => "spam",
            LinkAction::Trash => "trash",
            LinkAction::Unsubscribe => "unsubscribe",
            LinkAction::Confirm => "confirm",
        }
    }

    /// Parses the path segment.
    pub fn parse(s: &str) -> Option<LinkAction> {
        match s {
            "approve" => Some(LinkAction::Approve),
            "spam" => Some(LinkAction::Spam),
            "trash" => Some(LinkAction::Trash),
            "unsubscribe" => Some(LinkAction::Unsubscribe),
            "confirm" => Some(LinkAction::Confirm),
            _ => None,
        }
    }

    /// Whether the link changes a comment's status (single use).
    pub fn moderates(self) -> bool {
        matches!(
            self,
            LinkAction::Approve | LinkAction::Spam | LinkAction::Trash
        )
    }
}

/// A link's signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Site id.
    pub site: String,
    /// The comment.
    pub comment: i64,
    /// What it does.
    pub action: LinkAction,
    /// Moderation links: the status the e-mail was about.
    pub from: Option<Status>,
    /// Moderation links: the nonce of the e-mail.
    pub nonce: Option<String>,
    /// Expiry, Unix seconds.
    pub expires: i64,
}

/// What a verified moderation link allows: acting once (`nonce`) on a
/// comment that still has status `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleUse {
    /// The status the comment must still have.
    pub from: Status,
    /// Recorded as used, in the transaction that acts.
    pub nonce: String,
}

/// A fresh nonce for the links of one e-mail.
pub fn fresh_nonce() -> String {
    let raw: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Signs and checks links.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
    /// An older version's key and until when (Unix s) its links are taken.
    legacy: Option<(Vec<u8>, i64)>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

impl LinkSigner {
    /// A signer with the links' key and, after an upgrade, the key of the
    /// older version whose links (no `from`, no nonce) are still accepted
    /// until the time given.
    pub fn new(key: Vec<u8>, legacy: Option<(Vec<u8>, i64)>) -> LinkSigner {
        LinkSigner { key, legacy }
    }

    /// A signer with one key.
    pub fn with_key(key: Vec<u8>) -> LinkSigner {
        LinkSigner::new(key, None)
    }

    fn mac(key: &[u8], message: &str) -> Option<Hmac<Sha256>> {
        // HMAC takes keys of any length, so this never fails.
        let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
        mac.update(message.as_bytes());
        Some(mac)
    }

    /// The signed text. Fields are separated by a newline, which none of
    /// them can contain (the nonce is checked to be URL-safe base64).
    fn message(link: &Link) -> String {
        format!(
            "colloquy-link-v2\n{}\n{}\n{}\n{}\n{}\n{}",
            link.site,
            link.comment,
            link.action.as_str(),
            link.from.map_or("", Status::as_str),
            link.nonce.as_deref().unwrap_or(""),
            link.expires
        )
    }

    /// What links of the version before nonces signed.
    fn message_v1(link: &Link) -> String {
        format!(
            "colloquy-link-v1\n{}\n{}\n{}\n{}",
            link.site,
            link.comment,
            link.action.as_str(),
            link.expires
        )
    }

    /// The signature of a link (URL-safe base64).
    pub fn sign(&self, link: &Link) -> String {
        LinkSigner::mac(&self.key, &LinkSigner::message(link))
            .map(|m| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
            })
            .unwrap_or_default()
    }

    /// The full link under `base` (no trailing slash).
    pub fn url(&self, base: &str, link: &Link) -> String {
        let mut url = format!(
            "{base}/notify/{}/comments/{}/{}?",
            link.site,
            link.comment,
            link.action.as_str()
        );
        if let Some(from) = link.from {
            url.push_str("from=");
            url.push_str(from.as_str());
            url.push('&');
        }
        if let Some(n) = &link.nonce {
            url.push_str("n=");
            url.push_str(n);
            url.push('&');
        }
        url.push_str(&format!("exp={}&sig={}", link.expires, self.sign(link)));
        url
    }

    /// Checks a link's signature and expiry. A moderation link answers
    /// with what it allows once; other links with `None`.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for a wrong signature or an expired link.
    pub fn verify(&self, link: &Link, sig: &str, now_ms: i64) -> Result<Option<SingleUse>> {
        let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| invalid())?;
        let nonce_ok = link.nonce.as_deref().is_none_or(|n| {
            (1..=64).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if !nonce_ok {
            return Err(invalid());
        }
        // verify_slice compares in constant time.
        let current = LinkSigner::mac(&self.key, &LinkSigner::message(link))
            .is_some_and(|m| m.verify_slice(&given).is_ok());
        let legacy = !current
            && link.from.is_none()
            && link.nonce.is_none()
            && self.legacy.as_ref().is_some_and(|(key, until)| {
                now_ms / 1000 <= *until
                    && LinkSigner::mac(key, &LinkSigner::message_v1(link))
                        .is_some_and(|m| m.verify_slice(&given).is_ok())
            });
        if !current && !legacy {
            return Err(invalid());
        }
        if now_ms / 1000 > link.expires {
            return Err(Error::forbidden(
                Code::Forbidden,
                "this link has expired; act from the moderation queue instead",
            ));
        }
        if !link.action.moderates() {
            return Ok(None);
        }
        match (link.from, &link.nonce) {
            (Some(from), Some(nonce)) => Ok(Some(SingleUse {
                from,
                nonce: nonce.clone(),
            })),
            // Mailed before nonces, always about a held comment: the
            // signature itself is its nonce.
            (None, None) if legacy => Ok(Some(SingleUse {
                from: Status::Pending,
                nonce: format!("v1.{sig}"),
            })),
            _ => Err(invalid()),
        }
    }
}

fn invalid() -> Error {
    Error::forbidden(
        Code::Forbidden,
        "this link is not valid: it was changed or cut short; open the whole link from the e-mail",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approve(expires: i64) -> Link {
        Link {
            site: "default".to_owned(),
            comment: 7,
            action: LinkAction::Approve,
            from: Some(Status::Pending),
            nonce: Some("abc_-1".to_owned()),
            expires,
        }
    }

    #[test]
    fn a_link_works_for_its_comment_action_state_and_nonce_only_and_expires() {
        let s = LinkSigner::with_key(b"key".to_vec());
        let now = 1_800_000_000_000;
        let link = approve(now / 1000 + 60);
        let sig = s.sign(&link);
        assert_eq!(
            s.verify(&link, &sig, now).ok().flatten(),
            Some(SingleUse {
                from: Status::Pending,
                nonce: "abc_-1".to_owned()
            })
        );
        let changed = [
            Link {
                comment: 8,
                ..link.clone()
            },
            Link {
                site: "other".to_owned(),
                ..link.clone()
            },
            Link {
                action: LinkAction::Spam,
                ..link.clone()
            },
            Link {
                from: Some(Status::Spam),
                ..link.clone()
            },
            Link {
                from: None,
                ..link.clone()
            },
            Link {
                nonce: Some("abc_-2".to_owned()),
                ..link.clone()
            },
            Link {
                nonce: None,
                ..link.clone()
            },
            Link {
                expires: link.expires + 1,
                ..link.clone()
            },
        ];
        for other in &changed {
            assert!(s.verify(other, &sig, now).is_err(), "{other:?}");
        }
        assert!(s.verify(&link, "garbage!", now).is_err());
        assert!(s.verify(&link, &sig, now + 61_000).is_err());
        let other = LinkSigner::with_key(b"another key".to_vec());
        assert!(other.verify(&link, &sig, now).is_err());
    }

    #[test]
    fn moderation_links_need_a_state_and_a_nonce() {
        let s = LinkSigner::with_key(b"key".to_vec());
        let bare = Link {
            from: None,
            nonce: None,
            ..approve(2_000_000_000)
        };
        let sig = s.sign(&bare);
        assert!(s.verify(&bare, &sig, 1_800_000_000_000).is_err());
        let unsubscribe = Link {
            action: LinkAction::Unsubscribe,
            ..bare
        };
        let sig = s.sign(&unsubscribe);
        assert_eq!(
            s.verify(&unsubscribe, &sig, 1_800_000_000_000).ok(),
            Some(None)
        );
    }

    #[test]
    fn links_of_the_older_version_work_once_under_its_key_until_its_time() {
        let old_key = b"old".to_vec();
        let s = LinkSigner::new(b"new".to_vec(), Some((old_key.clone(), 1_900_000_000)));
        let link = Link {
            from: None,
            nonce: None,
            ..approve(1_850_000_000)
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&old_key).unwrap();
        mac.update(b"colloquy-link-v1\ndefault\n7\napprove\n1850000000");
        let sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let grant = s.verify(&link, &sig, 1_800_000_000_000).unwrap().unwrap();
        assert_eq!(grant.from, Status::Pending);
        assert_eq!(grant.nonce, format!("v1.{sig}"));
        // Past the old key's time, or with the new key, it is refused.
        assert!(s.verify(&link, &sig, 1_900_001_000_000).is_err());
        let without = LinkSigner::with_key(b"new".to_vec());
        assert!(without.verify(&link, &sig, 1_800_000_000_000).is_err());
    }

    #[test]
    fn urls_carry_state_nonce_expiry_and_signature() {
        let s = LinkSigner::with_key(b"key".to_vec());
        let u = s.url("https://c.example", &approve(1010));
        assert!(
            u.starts_with(
                "https://c.example/notify/default/comments/7/approve?from=pending&n=abc_-1&exp=1010&sig="
            ),
            "{u}"
        );
        let u = s.url(
            "https://c.example",
            &Link {
                site: "a".to_owned(),
                comment: 5,
                action: LinkAction::Unsubscribe,
                from: None,
                nonce: None,
                expires: 1010,
            },
        );
        assert!(
            u.starts_with("https://c.example/notify/a/comments/5/unsubscribe?exp=1010&sig="),
            "{u}"
        );
    }
}
