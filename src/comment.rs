//! The comment domain: validated identifiers, statuses and records.
//!
//! Values are parsed once at the edge (`parse -> Result`) and carried as
//! types afterwards, so the service and store never see an unchecked site id
//! or thread key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A site's id: 1–64 characters of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SiteId(String);

impl SiteId {
    /// Parses a site id.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `site`.
    pub fn parse(s: &str) -> Result<SiteId, Error> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(SiteId(s.to_owned()))
        } else {
            Err(Error::invalid(
                "site",
                "a site id is 1-64 characters of a-z, 0-9, _ and -",
            ))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The maximum length of a thread key, in characters.
pub const MAX_THREAD_KEY_CHARS: usize = 256;

/// An article's key: any string of 1–256 characters without control,
/// noncharacter or invisible formatting characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ThreadKey(String);

impl ThreadKey {
    /// Parses a thread key.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `thread`.
    pub fn parse(s: &str) -> Result<ThreadKey, Error> {
        let chars = s.chars().count();
        if chars == 0 || chars > MAX_THREAD_KEY_CHARS {
            return Err(Error::invalid(
                "thread",
                format!(
                    "a thread key is 1-{MAX_THREAD_KEY_CHARS} characters (this one has {chars})"
                ),
            ));
        }
        // A key is shown in pages, feeds and e-mails: nothing XML forbids,
        // nothing invisible that reorders the text around it.
        if s.chars().any(|c| {
            c.is_control()
                || crate::text::is_forbidden_in_output(c)
                || crate::text::is_invisible_format(c)
        }) {
            return Err(Error::invalid(
                "thread",
                "a thread key may not contain control characters, U+FFFE/U+FFFF or invisible formatting characters",
            ));
        }
        Ok(ThreadKey(s.to_owned()))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ThreadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An author's name as readers see it: one line of visible text. Invisible
/// formatting (bidi overrides, zero-width characters, fillers) is removed,
/// so no name can disguise itself as another or reorder what follows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AuthorName(String);

impl AuthorName {
    /// Parses a submitted name of at most `max` characters; blank (or only
    /// invisible characters) means no name.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `author`: control characters or line
    /// breaks, or too long.
    pub fn parse(raw: &str, max: usize) -> Result<Option<AuthorName>, Error> {
        if raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                "author",
                "may not contain control characters or line breaks",
            ));
        }
        let visible = crate::text::visible_text(raw.trim());
        let name = visible.trim();
        let n = name.chars().count();
        if n > max {
            return Err(Error::invalid(
                "author",
                format!("has {n} characters; the limit is {max}"),
            ));
        }
        Ok((!name.is_empty()).then(|| AuthorName(name.to_owned())))
    }

    /// A name from an import: control characters become spaces, invisible
    /// formatting goes, and it is cut to `max` characters.
    pub fn lenient(raw: &str, max: usize) -> Option<AuthorName> {
        let line = one_visible_line(raw, max);
        (!line.is_empty()).then_some(AuthorName(line))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// One line of visible text of at most `max` characters (names and titles
/// from elsewhere): controls become spaces, invisible formatting is removed,
/// the ends are trimmed.
pub fn one_visible_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::text::visible_text(&flat)
        .trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// A comment's moderation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting in the moderation queue.
    Pending,
    /// Visible to readers.
    Published,
    /// Marked as spam.
    Spam,
    /// In the trash.
    Trash,
}

impl Status {
    /// All statuses.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Published,
        Status::Spam,
        Status::Trash,
    ];

    /// The status as stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Published => "published",
            Status::Spam => "spam",
            Status::Trash => "trash",
        }
    }

    /// Parses a stored or requested status.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `status`.
    pub fn parse(s: &str) -> Result<Status, Error> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "status",
                    format!("`{s}` is not one of pending, published, spam, trash"),
                )
            })
    }
}

/// A thread's state, as Drupal offers per article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ThreadState {
    /// Readable, open for comments.
    Open,
    /// Readable, no new comments.
    Closed,
    /// Neither readable nor open.
    Hidden,
}

impl ThreadState {
    /// The state as stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadState::Open => "open",
            ThreadState::Closed => "closed",
            ThreadState::Hidden => "hidden",
        }
    }

    /// Parses a stored or requested state.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `state`.
    pub fn parse(s: &str) -> Result<ThreadState, Error> {
        match s {
            "open" => Ok(ThreadState::Open),
            "closed" => Ok(ThreadState::Closed),
            "hidden" => Ok(ThreadState::Hidden),
            _ => Err(Error::invalid(
                "state",
                format!("`{s}` is not one of open, closed, hidden"),
            )),
        }
    }
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Unique id (positive, below 2^53 so JavaScript reads it exactly).
    pub id: i64,
    /// The site.
    pub site: String,
    /// The thread key.
    pub thread: String,
    /// The comment this one replies to.
    pub parent: Option<i64>,
    /// Moderation status.
    pub status: Status,
    /// The text format (policy id) of `body`.
    pub format: String,
    /// The raw text as submitted.
    pub body: String,
    /// The rendered, sanitized HTML.
    pub html: String,
    /// The version of the policy that rendered `html`.
    pub policy_version: String,
    /// Author name.
    pub author: Option<String>,
    /// Author e-mail; never served publicly.
    pub email: Option<String>,
    /// Author homepage.
    pub homepage: Option<String>,
    /// Keyed hash of the poster's IP address.
    pub ip_hash: Option<String>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created: i64,
    /// Last edit time, milliseconds since the Unix epoch.
    pub modified: Option<i64>,
    /// Why the moderation rules gave it its first status.
    pub reasons: Vec<String>,
    /// The author asked for an e-mail when a reply is published.
    pub notify_replies: bool,
}
