//! Signed one-click links in notification e-mails.
//!
//! A link names a site, a comment, an action and an expiry time, and carries
//! an HMAC-SHA-256 of exactly those under a per-database secret (kept in the
//! `settings` table, made on first use). Nothing else is needed to act on
//! it, so the link must not be guessable, must not be reusable for another
//! comment or action, and stops working when it expires.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::store::Store;

/// The setting that holds the signing key.
const KEY_SETTING: &str = "notify_link_key";

/// How long moderation links work: a week.
pub const MODERATION_LINK_SECS: i64 = 7 * 24 * 3600;
/// How long unsubscribe links work: 90 days (mail is read late).
pub const UNSUBSCRIBE_LINK_SECS: i64 = 90 * 24 * 3600;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    /// Publish a held comment.
    Approve,
    /// Mark it as spam.
    Spam,
    /// Move it to the trash.
    Trash,
    /// Stop reply e-mails to the comment's author.
    Unsubscribe,
}

impl LinkAction {
    /// The action as it appears in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Approve => "approve",
            LinkAction::Spam => "spam",
            LinkAction::Trash => "trash",
            LinkAction::Unsubscribe => "unsubscribe",
        }
    }

    /// Parses the path segment.
    pub fn parse(s: &str) -> Option<LinkAction> {
        match s {
            "approve" => Some(LinkAction::Approve),
            "spam" => Some(LinkAction::Spam),
            "trash" => Some(LinkAction::Trash),
            "unsubscribe" => Some(LinkAction::Unsubscribe),
            _ => None,
        }
    }
}

/// Signs and checks links.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

impl LinkSigner {
    /// The signer of this database (the key is created on first use; every
    /// server sharing the database uses the same one).
    ///
    /// # Errors
    /// Database failure.
    pub async fn load(store: &Store) -> Result<LinkSigner> {
        // Usually there: a read, no write, on every link followed.
        if let Some(key) = store.setting(KEY_SETTING).await? {
            return Ok(LinkSigner::with_key(key.into_bytes()));
        }
        let fresh: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let fresh = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fresh);
        let key = store.setting_or_insert(KEY_SETTING, &fresh).await?;
        Ok(LinkSigner::with_key(key.into_bytes()))
    }

    /// A signer with a given key.
    pub fn with_key(key: Vec<u8>) -> LinkSigner {
        LinkSigner { key }
    }

    fn mac(&self, site: &str, id: i64, action: LinkAction, expires: i64) -> Option<Hmac<Sha256>> {
        // HMAC takes keys of any length, so this never fails.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        // Fields are separated by a newline, which none of them can contain.
        mac.update(
            format!(
                "colloquy-link-v1\n{site}\n{id}\n{}\n{expires}",
                action.as_str()
            )
            .as_bytes(),
        );
        Some(mac)
    }

    /// The signature of a link (URL-safe base64).
    pub fn sign(&self, site: &str, id: i64, action: LinkAction, expires: i64) -> String {
        self.mac(site, id, action, expires)
            .map(|m| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
            })
            .unwrap_or_default()
    }

    /// The full link under `base` (no trailing slash), valid for `valid_secs`
    /// from `now_ms`.
    pub fn url(
        &self,
        base: &str,
        site: &str,
        id: i64,
        action: LinkAction,
        now_ms: i64,
        valid_secs: i64,
    ) -> String {
        let expires = now_ms / 1000 + valid_secs;
        let sig = self.sign(site, id, action, expires);
        format!(
            "{base}/notify/{site}/comments/{id}/{}?exp={expires}&sig={sig}",
            action.as_str()
        )
    }

    /// Checks a link's signature and expiry (`expires` in Unix seconds).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for a wrong signature or an expired link.
    pub fn verify(
        &self,
        site: &str,
        id: i64,
        action: LinkAction,
        expires: i64,
        sig: &str,
        now_ms: i64,
    ) -> Result<()> {
        let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| invalid())?;
        // verify_slice compares in constant time.
        self.mac(site, id, action, expires)
            .ok_or_else(invalid)?
            .verify_slice(&given)
            .map_err(|_| invalid())?;
        if now_ms / 1000 > expires {
            return Err(Error::Forbidden(
                "this link has expired; act from the moderation queue instead".to_owned(),
            ));
        }
        Ok(())
    }
}

fn invalid() -> Error {
    Error::Forbidden(
        "this link is not valid: it was changed or cut short; open the whole link from the e-mail"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_for_its_comment_and_action_only_and_expires() {
        let s = LinkSigner::with_key(b"key".to_vec());
        let now = 1_800_000_000_000;
        let exp = now / 1000 + 60;
        let sig = s.sign("default", 7, LinkAction::Approve, exp);
        assert!(s
            .verify("default", 7, LinkAction::Approve, exp, &sig, now)
            .is_ok());
        assert!(s
            .verify("default", 8, LinkAction::Approve, exp, &sig, now)
            .is_err());
        assert!(s
            .verify("other", 7, LinkAction::Approve, exp, &sig, now)
            .is_err());
        assert!(s
            .verify("default", 7, LinkAction::Spam, exp, &sig, now)
            .is_err());
        assert!(s
            .verify("default", 7, LinkAction::Approve, exp + 1, &sig, now)
            .is_err());
        assert!(s
            .verify("default", 7, LinkAction::Approve, exp, "garbage!", now)
            .is_err());
        assert!(s
            .verify("default", 7, LinkAction::Approve, exp, &sig, now + 61_000)
            .is_err());
        let other = LinkSigner::with_key(b"another key".to_vec());
        assert!(other
            .verify("default", 7, LinkAction::Approve, exp, &sig, now)
            .is_err());
    }

    #[test]
    fn urls_carry_expiry_and_signature() {
        let s = LinkSigner::with_key(b"key".to_vec());
        let u = s.url(
            "https://c.example",
            "a",
            5,
            LinkAction::Unsubscribe,
            1_000_000,
            10,
        );
        assert!(
            u.starts_with("https://c.example/notify/a/comments/5/unsubscribe?exp=1010&sig="),
            "{u}"
        );
    }
}
