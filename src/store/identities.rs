//! Signed-in readers' names, moderator accounts and their sessions.

use sqlx::Row;

use super::{insert_audit, Result, Store};
use crate::audit::AuditEntry;

/// A moderator account as stored.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// Its name (unique on its site).
    pub name: String,
    /// `moderator` or `admin`.
    pub role: String,
    /// The argon2 PHC string.
    pub password_hash: String,
}

impl Store {
    /// Records the username a signed-in reader posted under.
    ///
    /// # Errors
    /// Database failure.
    pub async fn remember_site_user(
        &self,
        site: &str,
        user_id: &str,
        username: &str,
        name_key: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO site_users (site, user_id, username, name_key, seen) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (site, user_id) DO UPDATE SET username = excluded.username, \
             name_key = excluded.name_key, seen = excluded.seen",
        )
        .bind(site)
        .bind(user_id)
        .bind(username)
        .bind(name_key)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The username of a signed-in reader whose name folds to `name_key`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn site_user_named(&self, site: &str, name_key: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT username FROM site_users WHERE site = $1 AND name_key = $2 LIMIT 1",
        )
        .bind(site)
        .bind(name_key)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| r.try_get("username")).transpose()?)
    }

    /// Creates an account or changes its role and password; returns whether
    /// it was new. The audit entry goes in the same transaction.
    ///
    /// # Errors
    /// Database failure.
    pub async fn put_account(
        &self,
        site: &str,
        account: &AccountRow,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let existed = sqlx::query("SELECT 1 AS one FROM accounts WHERE site = $1 AND name = $2")
            .bind(site)
            .bind(&account.name)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        sqlx::query(
            "INSERT INTO accounts (site, name, role, password_hash, created) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (site, name) DO UPDATE SET role = excluded.role, \
             password_hash = excluded.password_hash",
        )
        .bind(site)
        .bind(&account.name)
        .bind(&account.role)
        .bind(&account.password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if existed {
            // A new password ends the sessions of the old one.
            sqlx::query("DELETE FROM sessions WHERE site = $1 AND account = $2")
                .bind(site)
                .bind(&account.name)
                .execute(&mut *tx)
                .await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(!existed)
    }

    /// Removes an account and its sessions; whether it existed. The audit
    /// entry goes in the same transaction.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_account(&self, site: &str, name: &str, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM accounts WHERE site = $1 AND name = $2")
            .bind(site)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let existed = done.rows_affected() > 0;
        if existed {
            sqlx::query("DELETE FROM sessions WHERE site = $1 AND account = $2")
                .bind(site)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(existed)
    }

    /// An account of a site.
    ///
    /// # Errors
    /// Database failure.
    pub async fn account(&self, site: &str, name: &str) -> Result<Option<AccountRow>> {
        let row = sqlx::query(
            "SELECT name, role, password_hash FROM accounts WHERE site = $1 AND name = $2",
        )
        .bind(site)
        .bind(name)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(AccountRow {
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    /// The accounts of a site, by name.
    ///
    /// # Errors
    /// Database failure.
    pub async fn accounts(&self, site: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT name, role FROM accounts WHERE site = $1 ORDER BY name")
            .bind(site)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("role")?)))
            .collect()
    }

    /// Stores a session (its token's digest), forgetting expired ones.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_session(
        &self,
        digest: &str,
        site: &str,
        account: &str,
        now: i64,
        expires: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE expires <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (digest, site, account, created, expires) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest)
        .bind(site)
        .bind(account)
        .bind(now)
        .bind(expires)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The site, account name and role of an unexpired session.
    ///
    /// # Errors
    /// Database failure.
    pub async fn session(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<(String, String, String)>> {
        let row = sqlx::query(
            "SELECT s.site, s.account, a.role FROM sessions s \
             JOIN accounts a ON a.site = s.site AND a.name = s.account \
             WHERE s.digest = $1 AND s.expires > $2",
        )
        .bind(digest)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("site")?,
                r.try_get("account")?,
                r.try_get("role")?,
            ))
        })
        .transpose()
    }

    /// Ends a session.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_session(&self, digest: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE digest = $1")
            .bind(digest)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
