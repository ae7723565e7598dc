//! Errors of the comment service, with stable machine-readable codes.
//!
//! The HTTP layer maps each variant to a status and an
//! `application/problem+json` body; the messages are written for a person
//! to act on.

/// What went wrong in a service call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The site, thread or comment does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A field of the request is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as named in the request (`body`, `format`, …).
        field: String,
        /// What is wrong with it and how to fix it.
        message: String,
    },
    /// The request conflicts with the current state (a duplicate, say).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (closed thread, expired edit window).
    #[error("{0}")]
    Forbidden(String),
    /// No or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Too many requests; try again after this many seconds.
    #[error("{message}")]
    RateLimited {
        /// Which limit was hit, for a person to read.
        message: String,
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// The server is at capacity right now (every render thread busy, no
    /// free database connection, a lock held too long): nothing was done;
    /// try again after this many seconds.
    #[error("{message}")]
    Busy {
        /// What is busy, for a person to read.
        message: String,
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// A storage or other internal failure; details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A stable snake_case code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::Invalid { .. } => "invalid_field",
            Error::Conflict(_) => "conflict",
            Error::Forbidden(_) => "forbidden",
            Error::Unauthorized(_) => "unauthorized",
            Error::RateLimited { .. } => "rate_limited",
            Error::Busy { .. } => "busy",
            Error::Internal(_) => "internal",
        }
    }

    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        // Waiting too long (for a connection, a lock, a statement) is the
        // server being busy, not broken: the transaction was rolled back.
        let busy = match &e {
            sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(d) => matches!(
                d.code().as_deref(),
                // PostgreSQL: lock_not_available, query_canceled
                // (statement_timeout), serialization_failure,
                // deadlock_detected; SQLite: busy past its busy timeout.
                Some("55P03" | "57014" | "40001" | "40P01" | "5" | "517")
            ),
            _ => false,
        };
        if busy {
            tracing::warn!(error = %e, "database busy");
            return Error::Busy {
                message: "the server is busy right now and changed nothing; try again in a moment"
                    .to_owned(),
                retry_after_secs: 1,
            };
        }
        Error::Internal(format!("database: {e}"))
    }
}

/// Result alias for service calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
