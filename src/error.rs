//! Errors of the comment service, with stable machine-readable codes.
//!
//! The HTTP layer maps each to a status and an `application/problem+json`
//! body whose `code` is [`Error::code`]; the messages are written for a
//! person to act on. An internal error keeps its cause for the log (the
//! HTTP layer logs it once) and shows the client nothing of it.

/// The stable codes clients read (`code` in problem responses). New codes
/// may be added; an existing one never changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The site, thread or comment does not exist (for this caller).
    NotFound,
    /// A field of the request is invalid (`field` names it).
    InvalidField,
    /// The same poster sent the same text to the thread a moment ago.
    DuplicateComment,
    /// The form stamp was used for a comment already.
    StampUsed,
    /// A one-click link was used already.
    LinkUsed,
    /// The comment was moderated since the e-mail with the link was sent.
    ModeratedSince,
    /// The comment kept changing under the change asked for.
    CommentChanged,
    /// Any other conflict with the current state.
    Conflict,
    /// The thread is closed: no new comments, no edits.
    ThreadClosed,
    /// The author's edit window is over.
    EditWindowOver,
    /// The caller may not do this.
    Forbidden,
    /// No or wrong credentials.
    Unauthorized,
    /// Too many requests.
    RateLimited,
    /// The server is at capacity; try again shortly.
    Busy,
    /// Something failed on the server's side.
    Internal,
    // Votes, pins and statements of reasons (issue 17, points 4 and 6).
    /// The site takes no votes.
    VotesOff,
    /// The site counts upvotes only.
    DownvotesOff,
    /// The comment is not published (votes and pins are for published comments).
    NotPublished,
    /// This statement of reasons was appealed already.
    AppealedAlready,
    /// The site takes comments from signed-in readers only.
    SignInRequired,
    /// An anonymous comment used the name of a signed-in reader.
    NameTaken,
    /// The account, session or signed-in role lacks a permission (named
    /// in the detail).
    MissingPermission,
    /// This reader reported this comment already.
    AlreadyReported,
    /// Moderators suspended the commenter for a while.
    Suspended,
    /// Moderators banned the commenter.
    Banned,
}

impl Code {
    /// Every code, for documentation checks.
    pub const ALL: [Code; 25] = [
        Code::NotFound,
        Code::InvalidField,
        Code::DuplicateComment,
        Code::StampUsed,
        Code::LinkUsed,
        Code::ModeratedSince,
        Code::CommentChanged,
        Code::Conflict,
        Code::ThreadClosed,
        Code::EditWindowOver,
        Code::Forbidden,
        Code::Unauthorized,
        Code::RateLimited,
        Code::Busy,
        Code::Internal,
        Code::VotesOff,
        Code::DownvotesOff,
        Code::NotPublished,
        Code::AppealedAlready,
        Code::SignInRequired,
        Code::NameTaken,
        Code::MissingPermission,
        Code::AlreadyReported,
        Code::Suspended,
        Code::Banned,
    ];

    /// The code as sent: snake_case, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotFound => "not_found",
            Code::InvalidField => "invalid_field",
            Code::DuplicateComment => "duplicate_comment",
            Code::StampUsed => "stamp_used",
            Code::LinkUsed => "link_used",
            Code::ModeratedSince => "moderated_since",
            Code::CommentChanged => "comment_changed",
            Code::Conflict => "conflict",
            Code::ThreadClosed => "thread_closed",
            Code::EditWindowOver => "edit_window_over",
            Code::Forbidden => "forbidden",
            Code::Unauthorized => "unauthorized",
            Code::RateLimited => "rate_limited",
            Code::Busy => "busy",
            Code::Internal => "internal",
            Code::VotesOff => "votes_off",
            Code::DownvotesOff => "downvotes_off",
            Code::NotPublished => "not_published",
            Code::AppealedAlready => "appealed_already",
            Code::SignInRequired => "sign_in_required",
            Code::NameTaken => "name_taken",
            Code::MissingPermission => "missing_permission",
            Code::AlreadyReported => "already_reported",
            Code::Suspended => "suspended",
            Code::Banned => "banned",
        }
    }
}

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
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Which conflict ([`Code::DuplicateComment`], …).
        code: Code,
        /// What happened, for a person to read.
        message: String,
    },
    /// The caller may not do this (403).
    #[error("{message}")]
    Forbidden {
        /// Why not ([`Code::ThreadClosed`], …).
        code: Code,
        /// What happened, for a person to read.
        message: String,
    },
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
    /// A failure on the server's side: what was being done, and why it
    /// failed (logged, never shown).
    #[error("internal error: {context}")]
    Internal {
        /// What the service was doing.
        context: String,
        /// The cause, if there is one beyond the context.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// The stable code for clients.
    pub fn code(&self) -> Code {
        match self {
            Error::NotFound(_) => Code::NotFound,
            Error::Invalid { .. } => Code::InvalidField,
            Error::Conflict { code, .. } | Error::Forbidden { code, .. } => *code,
            Error::Unauthorized(_) => Code::Unauthorized,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::Busy { .. } => Code::Busy,
            Error::Internal { .. } => Code::Internal,
        }
    }

    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A conflict with the current state.
    pub fn conflict(code: Code, message: impl Into<String>) -> Error {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    /// Something the caller may not do.
    pub fn forbidden(code: Code, message: impl Into<String>) -> Error {
        Error::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// An internal failure with no cause beyond its description.
    pub fn internal(context: impl Into<String>) -> Error {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// An internal failure and its cause.
    pub fn internal_from(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// The server is busy: the message a client sees.
    pub fn busy() -> Error {
        Error::Busy {
            message: "the server is busy right now and changed nothing; try again in a moment"
                .to_owned(),
            retry_after_secs: 1,
        }
    }

    /// The whole chain of causes, for the log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

/// Result alias for service calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_words() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert!(seen.insert(s), "{s} twice");
        }
    }

    #[test]
    fn every_code_is_documented_in_the_readme() {
        let readme = include_str!("../README.md");
        for c in Code::ALL {
            assert!(
                readme.contains(&format!("| `{}` |", c.as_str())),
                "README's table of problem codes lacks `{}`",
                c.as_str()
            );
        }
    }

    #[test]
    fn an_internal_error_keeps_its_cause() {
        let cause = std::io::Error::other("disk on fire");
        let e = Error::internal_from("writing the key file", cause);
        assert_eq!(e.code(), Code::Internal);
        assert_eq!(
            e.chain(),
            "internal error: writing the key file: disk on fire"
        );
    }
}
