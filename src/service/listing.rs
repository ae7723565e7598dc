//! Reading: a thread's published comments a page at a time, its state and
//! count, and counts for many threads.

use super::Colloquy;
use crate::comment::decode_cursor;
use crate::comment::encode_cursor;
use crate::comment::Order;
use crate::comment::Page;
use crate::comment::{Comment, SiteId, ThreadKey, ThreadState};
use crate::error::{Error, Result};

/// A thread as the public sees it.
#[derive(Debug, Clone)]
pub struct ThreadInfo {
    /// The key.
    pub key: String,
    /// Its state.
    pub state: ThreadState,
    /// Published comments.
    pub count: i64,
}

pub(super) fn page(mut comments: Vec<Comment>, limit: i64) -> Page {
    let full = i64::try_from(comments.len()).unwrap_or(i64::MAX) >= limit;
    let next_cursor = if full {
        comments.last().map(|c| encode_cursor(c.created, c.id))
    } else {
        None
    };
    comments.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Page {
        comments,
        next_cursor,
    }
}

impl Colloquy {
    async fn visible_thread(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
    ) -> Result<Option<ThreadState>> {
        self.site(site).await?;
        let state = self
            .reads()
            .thread(site.as_str(), thread.as_str())
            .await?
            .map(|t| t.state);
        if state == Some(ThreadState::Hidden) {
            return Err(Error::NotFound(format!(
                "there is no visible thread `{thread}`"
            )));
        }
        Ok(state)
    }

    /// The version of a thread's listing (changes with every write that
    /// changes it); `None` when the thread has no comments yet.
    ///
    /// # Errors
    /// Unknown site, hidden thread.
    pub async fn listing_version(&self, site: &SiteId, thread: &ThreadKey) -> Result<Option<i64>> {
        self.site(site).await?;
        match self.reads().thread(site.as_str(), thread.as_str()).await? {
            Some(t) if t.state == ThreadState::Hidden => Err(Error::NotFound(format!(
                "there is no visible thread `{thread}`"
            ))),
            Some(t) => Ok(Some(t.version)),
            None => Ok(None),
        }
    }

    /// Published comments of a thread, a page at a time. A thread without
    /// comments yet lists as empty.
    ///
    /// # Errors
    /// Unknown site, hidden thread, invalid cursor or limit.
    pub async fn list(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        order: Order,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page> {
        let limit = self.check_limit(limit)?;
        let after = cursor.map(decode_cursor).transpose()?;
        let state = self.visible_thread(site, thread).await?;
        if state.is_none() {
            return Ok(Page {
                comments: Vec::new(),
                next_cursor: None,
            });
        }
        let comments = self
            .reads()
            .list_published(site.as_str(), thread.as_str(), order, limit, after)
            .await?;
        Ok(page(comments, limit))
    }

    pub(super) fn check_limit(&self, limit: Option<i64>) -> Result<i64> {
        let max = i64::try_from(self.config.limits.max_batch).unwrap_or(200);
        match limit {
            None => Ok(max.min(50)),
            Some(n) if (1..=max).contains(&n) => Ok(n),
            Some(n) => Err(Error::invalid(
                "limit",
                format!("{n} is out of range; use 1 to {max}"),
            )),
        }
    }

    /// The state and published-comment count of one thread.
    ///
    /// # Errors
    /// Unknown site or hidden thread.
    pub async fn thread(&self, site: &SiteId, thread: &ThreadKey) -> Result<ThreadInfo> {
        let state = self.visible_thread(site, thread).await?;
        let count = self
            .reads()
            .count_published(site.as_str(), &[thread.as_str().to_owned()])
            .await?;
        Ok(ThreadInfo {
            key: thread.as_str().to_owned(),
            state: state.unwrap_or(ThreadState::Open),
            count: count.first().map_or(0, |(_, n)| *n),
        })
    }

    /// Published-comment counts for many threads (0 for unknown ones), in
    /// the order asked.
    ///
    /// # Errors
    /// Unknown site, too many threads.
    pub async fn counts(&self, site: &SiteId, threads: &[ThreadKey]) -> Result<Vec<(String, i64)>> {
        self.site(site).await?;
        if threads.len() > self.config.limits.max_batch {
            return Err(Error::invalid(
                "threads",
                format!(
                    "{} threads asked; at most {} per request",
                    threads.len(),
                    self.config.limits.max_batch
                ),
            ));
        }
        let s = site.as_str().to_owned();
        let mut answer: Vec<(String, Option<i64>)> = threads
            .iter()
            .map(|t| {
                let key = t.as_str().to_owned();
                let known = self.counts.get(&(s.clone(), key.clone()));
                (key, known)
            })
            .collect();
        let missing: Vec<String> = answer
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        if !missing.is_empty() {
            let since = self.counts.generation();
            let found: std::collections::HashMap<String, i64> = self
                .reads()
                .count_published(&s, &missing)
                .await?
                .into_iter()
                .collect();
            for (key, n) in answer.iter_mut().filter(|(_, n)| n.is_none()) {
                let count = found.get(key).copied().unwrap_or(0);
                self.counts
                    .put_since(since, (s.clone(), key.clone()), count);
                *n = Some(count);
            }
        }
        Ok(answer
            .into_iter()
            .map(|(k, n)| (k, n.unwrap_or(0)))
            .collect())
    }
}
