//! Votes and pins: a reader's vote on a published comment, a moderator's
//! pin.

use super::Colloquy;
use crate::audit::Actor;
use crate::clock::now_ms;
use crate::comment::{Comment, SiteId, Status};
use crate::error::{Code, Error, Result};
use crate::ratelimit::Budget;
use crate::reader::Reader;
use crate::vote::{self, Standing, Vote};
use std::net::IpAddr;

/// Votes one client address may send a site per minute (with rate limits on).
pub const IP_VOTES_PER_MINUTE: u32 = 120;
/// Votes a site takes per minute from everyone.
pub const SITE_VOTES_PER_MINUTE: u32 = 12_000;

impl Colloquy {
    /// Sets `reader`'s vote on a published comment (`Vote::None` takes it
    /// back) and returns the comment's standing afterwards. One vote per
    /// reader ([`Reader::key`]); the same vote again changes nothing.
    ///
    /// # Errors
    /// Unknown site, a comment that is not published (404), votes or
    /// downvotes off on the site (403), a reader who cannot be told apart
    /// (no address: 403); too many votes from one address (429).
    pub async fn vote(
        &self,
        site: &SiteId,
        id: i64,
        reader: &Reader,
        ip: Option<IpAddr>,
        value: Vote,
    ) -> Result<Standing> {
        let row = self.site(site).await?;
        vote::allowed(value, row.rules.votes, row.rules.downvotes)?;
        // Each vote is a write: an address gets a budget, like posts.
        self.spend(
            Budget::Votes,
            site.as_str(),
            ip.map(|ip| crate::net::person(ip, self.config.ipv6_prefix)),
            IP_VOTES_PER_MINUTE,
            SITE_VOTES_PER_MINUTE,
        )
        .await?;
        let key = reader.key().ok_or_else(|| {
            Error::forbidden(
                Code::Forbidden,
                "this reader cannot be told apart from others, so cannot vote",
            )
        })?;
        self.store
            .vote(site.as_str(), id, &key.as_text(), value.value(), now_ms())
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no published comment {id}")))
    }

    /// Pins (or unpins) a comment: pinned comments come first in every
    /// order. Logged as `pin` / `unpin`; doing it again changes nothing.
    ///
    /// # Errors
    /// Unknown site or comment; pinning a comment that is not published
    /// ([`Code::NotPublished`], 409).
    pub async fn pin(
        &self,
        site: &SiteId,
        id: i64,
        pinned: bool,
        actor: &Actor,
    ) -> Result<Comment> {
        let c = self.comment(site, id).await?;
        if c.standing.pinned == pinned {
            return Ok(c);
        }
        if pinned && c.status != Status::Published {
            return Err(Error::conflict(
                Code::NotPublished,
                format!(
                    "comment {id} is {}; only a published comment can be pinned",
                    c.status.as_str()
                ),
            ));
        }
        let action = if pinned { "pin" } else { "unpin" };
        let audit = self.entry(&c, actor, action, now_ms(), Vec::new());
        if !self
            .store
            .set_pinned(site.as_str(), id, pinned, &audit)
            .await?
        {
            // Changed meanwhile (unpublished, or the same pin by another
            // moderator): what it is now decides.
            let now = self.comment(site, id).await?;
            if pinned && !now.standing.pinned {
                return Err(Error::conflict(
                    Code::NotPublished,
                    format!(
                        "comment {id} is {}; only a published comment can be pinned",
                        now.status.as_str()
                    ),
                ));
            }
            return Ok(now);
        }
        self.comment(site, id).await
    }
}
