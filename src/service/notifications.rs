//! What moderators and readers do with notifications: the site's outbox,
//! reply subscriptions (confirm, unsubscribe) and whether a one-click link
//! was used.

use super::Colloquy;
use crate::clock::now_ms;
use crate::comment::{Comment, SiteId};
use crate::error::{Error, Result};
use crate::outbox::{Delivery, Subscription};

impl Colloquy {
    /// A page of the site's outbox, newest first: deliveries in `state`
    /// (all when `None`) with ids below `before`, at most `limit`.
    ///
    /// # Errors
    /// Unknown site, a limit out of range, database failure.
    pub async fn deliveries(
        &self,
        site: &SiteId,
        state: Option<&str>,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<Delivery>> {
        self.site(site).await?;
        let limit = self.check_limit(limit)?;
        Ok(self
            .store
            .deliveries(site.as_str(), state, before, limit)
            .await?)
    }

    /// Gives a failed delivery a fresh set of attempts; false when the site
    /// has no failed delivery of that id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn retry_delivery(&self, site: &SiteId, id: i64) -> Result<bool> {
        Ok(self
            .store
            .retry_delivery(site.as_str(), id, now_ms())
            .await?)
    }

    /// Whether a one-click link's nonce was used already.
    ///
    /// # Errors
    /// Database failure.
    pub async fn link_used(&self, nonce: &str) -> Result<bool> {
        Ok(self.store.link_used(nonce).await?)
    }

    /// The reply subscription of the address that wrote `comment`, if it
    /// has an address and one.
    ///
    /// # Errors
    /// Database failure.
    pub async fn subscription_of(&self, comment: &Comment) -> Result<Option<Subscription>> {
        let Some(hash) = self.address_hash(comment) else {
            return Ok(None);
        };
        Ok(self
            .store
            .subscription(comment.site.as_str(), &hash)
            .await?)
    }

    /// Stops every e-mail to the address that wrote comment `id`, for good
    /// (the address goes on the suppression list).
    ///
    /// # Errors
    /// Unknown comment, database failure.
    pub async fn unsubscribe(&self, site: &SiteId, id: i64) -> Result<()> {
        let comment = self.comment(site, id).await?;
        let hash = self.address_hash(&comment);
        self.store
            .unsubscribe_replies(site.as_str(), id, hash.as_deref(), now_ms())
            .await?;
        Ok(())
    }

    /// Confirms the address that wrote comment `id` for reply e-mails;
    /// returns the subscription afterwards (`Suppressed` when it had
    /// unsubscribed, which a confirmation does not undo).
    ///
    /// # Errors
    /// Unknown comment, a comment without an address, database failure.
    pub async fn confirm_subscription(&self, site: &SiteId, id: i64) -> Result<Subscription> {
        let comment = self.comment(site, id).await?;
        let hash = self.address_hash(&comment).ok_or_else(|| {
            Error::NotFound("this comment has no e-mail address to confirm".to_owned())
        })?;
        Ok(self
            .store
            .confirm_subscription(site.as_str(), &hash, now_ms())
            .await?)
    }

    /// The keyed hash of the address that wrote `comment`, if it has one.
    fn address_hash(&self, comment: &Comment) -> Option<String> {
        comment
            .email
            .as_ref()
            .map(|e| self.keys().address_hash(&e.normalized()))
    }
}
