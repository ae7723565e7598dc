//! Moderator accounts: creating them, logging in, and who a bearer token of
//! the admin API is (an account's session, or a signed-in reader whose
//! role claim makes them staff).

use super::Colloquy;
use crate::audit::{Actor, AuditEntry};
use crate::auth::StaffRole;
use crate::clock::{new_id, now_ms};
use crate::comment::SiteId;
use crate::error::{Code, Error, Result};
use crate::reader::Role;
use crate::secret::{hash_token, random_token};
use crate::store::AccountRow;

/// How long a login session lasts.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;
/// Login attempts one address may make per minute (with `rate_limit` on).
pub const LOGINS_PER_MINUTE: u32 = 10;
/// Shortest password an account takes.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password (argon2 hashes any length; this bounds the work).
pub(super) const MAX_PASSWORD_CHARS: usize = 1024;

/// A session issued at login.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token (shown once; stored as a digest).
    pub token: String,
    /// Until when (ms).
    pub expires: i64,
    /// The account's role.
    pub role: StaffRole,
}

/// A person acting on the admin API, and what their role lets them do.
#[derive(Debug, Clone)]
pub struct Staff {
    /// How the audit log names them.
    pub actor: Actor,
    /// Their role on the site.
    pub role: StaffRole,
}

/// An account name: 1-64 characters of letters, digits, `.`, `_`, `-`, `@`.
fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            "an account name is 1-64 letters, digits, `.`, `_`, `-` or `@`",
        ))
    }
}

impl Colloquy {
    /// Creates an account of `site`, or changes its role and password (its
    /// sessions end); returns whether it is new.
    ///
    /// # Errors
    /// Unknown site, an invalid name, role or password.
    pub async fn put_account(
        &self,
        site: &SiteId,
        name: &str,
        role: &str,
        password: &str,
        actor: &Actor,
    ) -> Result<bool> {
        self.site(site).await?;
        check_name(name)?;
        let role = StaffRole::parse(role)
            .ok_or_else(|| Error::invalid("role", "use `moderator` or `admin`"))?;
        let n = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
            return Err(Error::invalid(
                "password",
                format!("use {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
            .await
            .map_err(|e| Error::internal_from("hashing a password", e))?
            .map_err(|e| Error::internal(format!("hashing a password: {e}")))?;
        let now = now_ms();
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: None,
            actor: actor.label(),
            action: "account".to_owned(),
            status: None,
            reasons: vec![format!("account `{name}` set to {}", role.as_str())],
            created: now,
            notify: false,
        };
        let row = AccountRow {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            password_hash: hash,
        };
        Ok(self
            .store
            .put_account(site.as_str(), &row, now, &audit)
            .await?)
    }

    /// Removes an account of `site`; its sessions end at once.
    ///
    /// # Errors
    /// Unknown site or account.
    pub async fn delete_account(&self, site: &SiteId, name: &str, actor: &Actor) -> Result<()> {
        self.site(site).await?;
        let now = now_ms();
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: None,
            actor: actor.label(),
            action: "account".to_owned(),
            status: None,
            reasons: vec![format!("account `{name}` removed")],
            created: now,
            notify: false,
        };
        if self
            .store
            .delete_account(site.as_str(), name, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(format!(
                "site `{site}` has no account `{name}`"
            )))
        }
    }

    /// The accounts of a site: names and roles.
    ///
    /// # Errors
    /// Unknown site.
    pub async fn accounts(&self, site: &SiteId) -> Result<Vec<(String, String)>> {
        self.site(site).await?;
        Ok(self.store.accounts(site.as_str()).await?)
    }

    /// Checks an account's password and issues a session. Unknown names
    /// and wrong passwords get the same answer after the same work; at
    /// most two checks run at once (they are slow by design), and more are
    /// told to retry; one address has [`LOGINS_PER_MINUTE`] attempts.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] for a wrong name or password; busy; rate
    /// limited.
    pub async fn login(
        &self,
        site: &SiteId,
        name: &str,
        password: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Session> {
        self.site(site).await?;
        let person = ip.map(|ip| crate::net::person(ip, self.config.ipv6_prefix));
        self.spend(
            crate::ratelimit::Budget::Logins,
            site.as_str(),
            person,
            LOGINS_PER_MINUTE,
            0,
        )
        .await?;
        let _turn = self.logins.try_acquire().map_err(|_| Error::busy())?;
        let account = if password.chars().count() <= MAX_PASSWORD_CHARS && check_name(name).is_ok()
        {
            self.store.account(site.as_str(), name).await?
        } else {
            None
        };
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let given = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            crate::auth::verify_password(&given, stored.as_deref())
        })
        .await
        .map_err(|e| Error::internal_from("checking a password", e))?;
        let role = account.as_ref().and_then(|a| StaffRole::parse(&a.role));
        let (true, Some(role)) = (ok, role) else {
            return Err(Error::Unauthorized(
                "no account of this site has that name and password".to_owned(),
            ));
        };
        let token = format!("cs_{}", random_token(32));
        let now = now_ms();
        let expires = now + SESSION_MS;
        self.store
            .insert_session(&hash_token(&token), site.as_str(), name, now, expires)
            .await?;
        Ok(Session {
            token,
            expires,
            role,
        })
    }

    /// Ends the session of `token`; whether there was one.
    ///
    /// # Errors
    /// Database failure.
    pub async fn logout(&self, token: &str) -> Result<bool> {
        Ok(self.store.delete_session(&hash_token(token)).await?)
    }

    /// Who a bearer token of the admin API is on `site`, when it is not an
    /// admin token: an account's session, or the site's sign-in token of a
    /// reader whose `user.role` is moderator or admin. `Ok(None)`: neither.
    ///
    /// # Errors
    /// A session of another site, or a reader without a staff role
    /// ([`Code::MissingPermission`]); a sign-in token that does not verify.
    pub async fn staff(&self, site: &SiteId, token: &str) -> Result<Option<Staff>> {
        if super::looks_like_jwt(token) {
            let reader = self.reader(site, Some(token), None).await?;
            let Some(who) = reader.identity else {
                return Ok(None);
            };
            let role = match who.role {
                Role::Moderator => StaffRole::Moderator,
                Role::Admin => StaffRole::Admin,
                Role::Commenter => {
                    return Err(Error::forbidden(
                        Code::MissingPermission,
                        format!(
                            "`{}` is signed in as a commenter; the admin API needs the \
                             `moderate` permission (user.role moderator or admin)",
                            who.username
                        ),
                    ))
                }
            };
            return Ok(Some(Staff {
                actor: Actor::SignedIn(who.username),
                role,
            }));
        }
        let Some((session_site, account, role)) =
            self.store.session(&hash_token(token), now_ms()).await?
        else {
            return Ok(None);
        };
        if session_site != site.as_str() {
            return Err(Error::forbidden(
                Code::Forbidden,
                "this session is for another site's account",
            ));
        }
        let role = StaffRole::parse(&role)
            .ok_or_else(|| Error::internal(format!("account role `{role}`")))?;
        Ok(Some(Staff {
            actor: Actor::Account(account),
            role,
        }))
    }
}
