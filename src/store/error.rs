//! What can go wrong in the store, with its cause kept: the service turns
//! these into its own errors (a busy database into 503, the rest into an
//! internal error whose cause is logged once, by the HTTP layer).

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Waiting too long: for a connection, a lock, a statement (nothing was
    /// written; the transaction was rolled back).
    #[error("the database is busy: {0}")]
    Busy(#[source] sqlx::Error),
    /// A constraint refused a write the store did not expect to be refused.
    #[error("the database refused a write ({constraint}): {source}")]
    Constraint {
        /// The constraint's name.
        constraint: String,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value this version cannot read (a row from elsewhere, or a
    /// bug).
    #[error("unreadable stored value: {0}")]
    Corrupt(String),
    /// The store could not start (connection URL, migrations, its writer).
    #[error("{context}: {source}")]
    Setup {
        /// What was being set up.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The transaction that held this write and others failed (SQLite's
    /// group commit): every write of the group gets the same cause.
    #[error("{0}")]
    Group(std::sync::Arc<StoreError>),
    /// No free id was found for new rows after many tries.
    #[error("no free id for {0}")]
    IdsExhausted(&'static str),
    /// The group-commit writer has stopped (the server is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    /// Any other database failure.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
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
            return StoreError::Busy(e);
        }
        if let sqlx::Error::Database(d) = &e {
            if let Some(constraint) = d.constraint() {
                return StoreError::Constraint {
                    constraint: constraint.to_owned(),
                    source: e,
                };
            }
        }
        StoreError::Database(e)
    }
}

impl From<crate::error::Error> for StoreError {
    /// A domain value that would not parse from what was stored.
    fn from(e: crate::error::Error) -> StoreError {
        StoreError::Corrupt(e.to_string())
    }
}

impl StoreError {
    /// Whether the database was only busy (a retry may succeed).
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Busy(_) => true,
            StoreError::Group(e) => e.is_busy(),
            _ => false,
        }
    }

    /// A setup failure with its cause.
    pub(crate) fn setup(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> StoreError {
        StoreError::Setup {
            context,
            source: source.into(),
        }
    }
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> crate::error::Error {
        // Waiting too long (for a connection, a lock, a statement) is the
        // server being busy, not broken: the transaction was rolled back.
        if e.is_busy() {
            tracing::warn!(error = %e, "database busy");
            return crate::error::Error::busy();
        }
        crate::error::Error::internal_from("the database", e)
    }
}

impl From<sqlx::Error> for crate::error::Error {
    fn from(e: sqlx::Error) -> crate::error::Error {
        crate::error::Error::from(StoreError::from(e))
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
