//! Privacy: what is stored for an address (export, erase) and what is
//! forgotten on a schedule (IP hashes, stamps, old notifications).

use super::Colloquy;
use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::clock::{new_id, now_ms};
use crate::comment::{Comment, Email, SiteId};
use crate::error::{Error, Result};

impl Colloquy {
    /// Everything stored on a site for an e-mail address, in any letter
    /// case (privacy export).
    ///
    /// # Errors
    /// Unknown site, an invalid address.
    pub async fn export_email(&self, site: &SiteId, email: &str) -> Result<Vec<Comment>> {
        self.site(site).await?;
        let email = Email::parse(email)?
            .ok_or_else(|| Error::invalid("email", "give the e-mail address"))?;
        Ok(self.store.comments_by_email(site.as_str(), &email).await?)
    }

    /// Deletes everything stored on a site for an e-mail address, in any
    /// letter case: comments, the notifications about them or to it, its
    /// reply subscription. Returns how many comments went.
    ///
    /// # Errors
    /// Unknown site, an invalid address.
    pub async fn erase_email(&self, site: &SiteId, email: &str, actor: &Actor) -> Result<u64> {
        self.site(site).await?;
        let email = Email::parse(email)?
            .ok_or_else(|| Error::invalid("email", "give the e-mail address"))?;
        let now = now_ms();
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: None,
            actor: actor.label(),
            action: "erase".to_owned(),
            status: None,
            // The address itself is not kept: that is the point.
            reasons: vec!["erased every comment of one e-mail address on request".to_owned()],
            created: now,
            notify: false,
        };
        let address_hash = self
            .keys
            .address_hash(&crate::comment::normalize_email(&email));
        let n = self
            .store
            .erase_email(site.as_str(), &email, &address_hash, &audit)
            .await?;
        self.counts.clear();
        Ok(n)
    }

    /// Forgets IP hashes older than the configured retention.
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_ip_hashes(&self) -> Result<u64> {
        let days = i64::from(self.config.ip_retention_days);
        if days == 0 {
            return Ok(0);
        }
        Ok(self
            .store
            .purge_ip_hashes(now_ms() - days * 86_400_000)
            .await?)
    }

    /// Forgets the used form stamps that have expired anyway (they can no
    /// longer be replayed: an expired stamp is refused for its age).
    ///
    /// # Errors
    /// Database failure.
    pub async fn forget_expired_stamps(&self) -> Result<u64> {
        Ok(self.store.forget_used_stamps(now_ms()).await?)
    }

    /// Deletes delivered and failed notifications older than their
    /// retention (their payloads hold names, addresses and texts), and the
    /// nonces of expired links. Returns how many deliveries went.
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_notifications(&self) -> Result<u64> {
        let now = now_ms();
        self.store.purge_used_links(now).await?;
        let days = i64::from(self.config.notify.retention_days);
        if days == 0 {
            return Ok(0);
        }
        Ok(self.store.purge_deliveries(now - days * 86_400_000).await?)
    }
}
