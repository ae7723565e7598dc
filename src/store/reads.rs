//! Reading comments: one comment, listings, counts, the moderation queue,
//! and the lookups the moderation rules make.

use super::*;
use crate::comment::Comment;
use crate::comment::ListPosition;
use crate::comment::Order;
use crate::comment::Position;
use crate::comment::QueueFilter;
use sqlx::Row;

impl Store {
    /// One comment of a site.
    ///
    /// # Errors
    /// Database failure.
    pub async fn comment(&self, site: &str, id: i64) -> Result<Option<Comment>> {
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE site = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(site)
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        row.map(|r| Comment::try_from(&r)).transpose()
    }

    /// The hash of a comment's edit token.
    ///
    /// # Errors
    /// Database failure.
    pub async fn edit_token_hash(&self, site: &str, id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT edit_token_hash FROM comments WHERE site = $1 AND id = $2")
            .bind(site)
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.and_then(|r| {
            r.try_get::<Option<String>, _>("edit_token_hash")
                .ok()
                .flatten()
        }))
    }

    /// Published comments of a thread, a page at a time: pinned ones
    /// first, then in `order` (`best`: highest Wilson score, then oldest:
    /// ascending `best_rank`);
    /// `after` is the last item of the page before.
    ///
    /// # Errors
    /// Database failure.
    pub async fn list_published(
        &self,
        site: &str,
        thread: &str,
        order: Order,
        limit: i64,
        after: Option<ListPosition>,
    ) -> Result<Vec<Comment>> {
        let mut sql = Sql::new(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE site = "
        ));
        sql.bind(site.to_owned())
            .push(" AND thread_key = ")
            .bind(thread.to_owned())
            .push(" AND status = 'published'");
        if let Some(p) = after {
            // Rows after `p` in (pinned DESC, [best_rank,] time): from a
            // pinned item, the rest of the pinned ones and every unpinned
            // one; from an unpinned item, one row comparison the index
            // seeks to.
            sql.push(if p.pinned {
                " AND (pinned = 0 OR (pinned = 1 AND "
            } else {
                " AND pinned = 0 AND ("
            });
            let (cmp, rank) = match order {
                Order::Oldest => (">", false),
                Order::Newest => ("<", false),
                Order::Best => (">", true),
            };
            if rank {
                sql.push("(best_rank, created, id) > (")
                    .bind(-p.wilson)
                    .push(", ");
            } else {
                sql.push(&format!("(created, id) {cmp} ("));
            }
            sql.bind(p.created).push(", ").bind(p.id).push(")");
            sql.push(if p.pinned { "))" } else { ")" });
        }
        sql.push(match order {
            Order::Oldest => " ORDER BY pinned DESC, created ASC, id ASC LIMIT ",
            Order::Newest => " ORDER BY pinned DESC, created DESC, id DESC LIMIT ",
            Order::Best => " ORDER BY pinned DESC, best_rank ASC, created ASC, id ASC LIMIT ",
        })
        .bind(limit);
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(Comment::try_from).collect()
    }

    /// Published comment counts for several threads of a site (threads
    /// without comments, and hidden ones, are left out).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_published(
        &self,
        site: &str,
        threads: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if threads.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT thread_key, published FROM threads WHERE site = ");
        sql.bind(site.to_owned())
            .push(" AND state <> 'hidden' AND thread_key IN ")
            .bind_list(threads.to_vec());
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("thread_key")?,
                    r.try_get::<i64, _>("published")?,
                ))
            })
            .collect()
    }

    /// The moderation queue: comments of a site matching `filter`, newest
    /// first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn queue(
        &self,
        site: &str,
        filter: &QueueFilter,
        limit: i64,
        before: Option<Position>,
    ) -> Result<Vec<Comment>> {
        let mut sql = Sql::new(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE site = "
        ));
        sql.bind(site.to_owned()).push(" AND status IN ").bind_list(
            filter
                .statuses
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect::<Vec<_>>(),
        );
        // Text searches are case-insensitive substring matches; `%` and `_`
        // typed by the moderator are literal.
        if let Some(t) = &filter.text {
            sql.push(" AND LOWER(body) LIKE ")
                .bind(like_pattern(t))
                .push(" ESCAPE '\\'");
        }
        if let Some(a) = &filter.author {
            sql.push(" AND (LOWER(author) LIKE ")
                .bind(like_pattern(a))
                .push(" ESCAPE '\\' OR LOWER(email) LIKE ")
                .bind(like_pattern(a))
                .push(" ESCAPE '\\')");
        }
        if let Some(h) = &filter.ip_hash {
            sql.push(" AND ip_hash = ").bind(h.clone());
        }
        if let Some(t) = &filter.thread {
            sql.push(" AND thread_key = ").bind(t.clone());
        }
        if filter.appealed {
            sql.push(" AND id IN (SELECT comment_id FROM statements WHERE site = ")
                .bind(site.to_owned())
                .push(" AND appealed IS NOT NULL AND appeal_closed IS NULL)");
        }
        if let Some(p) = before {
            sql.push(" AND (created, id) < (")
                .bind(p.created)
                .push(", ")
                .bind(p.id)
                .push(")");
        }
        sql.push(" ORDER BY created DESC, id DESC LIMIT ")
            .bind(limit);
        let rows = sql.fetch_all(&self.write).await?;
        rows.iter().map(Comment::try_from).collect()
    }

    /// Published comments on a site by this e-mail address (for the
    /// trusted-author rule), counting at most `cap`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn approved_by_email(&self, site: &str, email: &str, cap: i64) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM comments WHERE site = $1 AND email_norm = $2 \
             AND status = 'published' LIMIT $3) AS t",
        )
        .bind(site)
        .bind(normalize_email(email))
        .bind(cap)
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }

    /// Nesting level of a comment (1: top level), following parents up to
    /// `cap` levels; `None` when it does not exist.
    ///
    /// # Errors
    /// Database failure.
    pub async fn depth(&self, site: &str, id: i64, cap: i64) -> Result<Option<u32>> {
        let row = sqlx::query(
            "WITH RECURSIVE chain (id, parent, level) AS ( \
               SELECT id, parent, 1 FROM comments WHERE site = $1 AND id = $2 \
               UNION ALL \
               SELECT c.id, c.parent, chain.level + 1 FROM comments c \
               JOIN chain ON c.id = chain.parent WHERE c.site = $1 AND chain.level < $3) \
             SELECT MAX(level) AS level FROM chain",
        )
        .bind(site)
        .bind(id)
        .bind(cap)
        .fetch_one(&self.read)
        .await?;
        let level: Option<i64> = row.try_get("level")?;
        Ok(level.map(|l| u32::try_from(l).unwrap_or(u32::MAX)))
    }

    /// Comments of a site rendered with another version of their policy than
    /// `current(format)`, a batch at a time after `after_id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn stale_renderings(
        &self,
        site: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(Comment, i64)>> {
        let sql = format!(
            "SELECT {COMMENT_COLUMNS}, revision FROM comments WHERE site = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.write)
            .await?;
        rows.iter()
            .map(|r| Ok((Comment::try_from(r)?, r.try_get("revision")?)))
            .collect()
    }

    /// Number of comments of a site (all statuses).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_site(&self, site: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM comments WHERE site = $1")
            .bind(site)
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("n")?)
    }
}
