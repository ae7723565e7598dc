//! The comment domain: validated identifiers, statuses and records.
//!
//! Values are parsed once at the edge (`parse -> Result`) and carried as
//! types afterwards, so the service and store never see an unchecked site id
//! or thread key.

use std::fmt;

#[cfg(feature = "server")]
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What every text newtype here offers: read access as a `&str` (and as
/// the string, by `Deref`), `Display`, comparison with plain strings, and a
/// constructor for values read back from the database, which were checked
/// when they were written.
macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            /// The value as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value, owned.
            pub fn into_string(self) -> String {
                self.0
            }

            /// A value the store read back (it was parsed when written).
            #[cfg_attr(not(feature = "server"), allow(dead_code))]
            pub(crate) fn from_stored(s: String) -> $name {
                $name(s)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_newtype!(SiteId);
text_newtype!(ThreadKey);
text_newtype!(AuthorName);
text_newtype!(Email);
text_newtype!(Homepage);

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
}

/// An author's e-mail address (never shown to readers): one
/// `local@domain.tld` without spaces, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses a submitted address; blank means none.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `email`.
    pub fn parse(raw: &str) -> Result<Option<Email>, Error> {
        let Some(v) = one_line_field("email", raw, 254)? else {
            return Ok(None);
        };
        let valid = v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && !v.contains(char::is_whitespace)
            && v.matches('@').count() == 1;
        if !valid {
            return Err(Error::invalid(
                "email",
                "is not an e-mail address like name@example.com",
            ));
        }
        Ok(Some(Email(v.to_owned())))
    }

    /// The form lookups compare: trimmed, A–Z as a–z (the same person types
    /// `Erin@Example.org` and `erin@example.org`).
    pub fn normalized(&self) -> String {
        normalize_email(&self.0)
    }
}

/// An address as lookups compare it (see [`Email::normalized`]).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// An author's homepage: an `http(s)://` address with a host, without
/// spaces or invisible characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Homepage(String);

impl Homepage {
    /// Parses a submitted homepage of at most `max` characters; blank means
    /// none.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `homepage`.
    pub fn parse(raw: &str, max: usize) -> Result<Option<Homepage>, Error> {
        let Some(v) = one_line_field("homepage", raw, max)? else {
            return Ok(None);
        };
        if v.chars()
            .any(|c| c.is_whitespace() || crate::text::is_invisible_format(c))
        {
            return Err(Error::invalid(
                "homepage",
                "may not contain spaces or invisible characters",
            ));
        }
        let ok = url::Url::parse(v)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(Error::invalid(
                "homepage",
                "must be an http:// or https:// address",
            ));
        }
        Ok(Some(Homepage(v.to_owned())))
    }
}

/// The longest thread title kept, in characters.
pub const MAX_THREAD_TITLE: usize = 300;
/// The longest thread address kept, in characters.
pub const MAX_THREAD_URL: usize = 2_000;

/// What a thread is about: its article's title and canonical address, from
/// the embed, the admin API or an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadMeta {
    /// The article's title (one visible line).
    pub title: Option<String>,
    /// The article's canonical `http(s)://` address.
    pub url: Option<String>,
}

impl ThreadMeta {
    /// Parses a submitted title and address; blank means none.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `thread_title` or `thread_url` (`field`
    /// is the prefix: `thread_` for posts, empty for the admin API).
    pub fn parse(
        title: Option<&str>,
        url: Option<&str>,
        prefix: &str,
    ) -> Result<ThreadMeta, Error> {
        let title_field = format!("{prefix}title");
        let title = match title {
            Some(t) if t.chars().count() > MAX_THREAD_TITLE => {
                return Err(Error::invalid(
                    title_field,
                    format!("is longer than {MAX_THREAD_TITLE} characters"),
                ))
            }
            Some(t) => Some(one_visible_line(t, MAX_THREAD_TITLE)).filter(|t| !t.is_empty()),
            None => None,
        };
        let url_field = format!("{prefix}url");
        let url = match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => {
                let ok = u.chars().count() <= MAX_THREAD_URL
                    && !u.chars().any(|c| {
                        c.is_whitespace() || c.is_control() || crate::text::is_invisible_format(c)
                    })
                    && url::Url::parse(u).is_ok_and(|p| {
                        matches!(p.scheme(), "http" | "https") && p.host().is_some()
                    });
                if !ok {
                    return Err(Error::invalid(
                        url_field,
                        format!(
                            "must be an http:// or https:// address of at most {MAX_THREAD_URL} characters, without spaces"
                        ),
                    ));
                }
                Some(u.to_owned())
            }
        };
        Ok(ThreadMeta { title, url })
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.url.is_none()
    }
}

/// A trimmed one-line field of at most `max` characters; `None` when blank.
fn one_line_field<'a>(field: &str, raw: &'a str, max: usize) -> Result<Option<&'a str>, Error> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "may not contain control characters or line breaks",
        ));
    }
    let n = v.chars().count();
    if n > max {
        return Err(Error::invalid(
            field,
            format!("has {n} characters; the limit is {max}"),
        ));
    }
    Ok(Some(v))
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
    pub site: SiteId,
    /// The thread key.
    pub thread: ThreadKey,
    /// The comment this one replies to.
    pub parent: Option<i64>,
    /// Moderation status.
    pub status: Status,
    /// The text format (policy id) of `body`.
    pub format: String,
    /// The raw text as submitted.
    pub body: String,
    /// The rendered HTML, as the safety net left it.
    pub html: crate::SafeHtml,
    /// The version of the policy that rendered `html`.
    pub policy_version: String,
    /// Author name.
    pub author: Option<AuthorName>,
    /// Author e-mail; never served publicly.
    pub email: Option<Email>,
    /// Author homepage.
    pub homepage: Option<Homepage>,
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
    /// Its votes and pin.
    pub standing: crate::vote::Standing,
    /// The site's id for the signed-in reader who wrote it (their
    /// `username` is `author`): a verified comment. `None`: anonymous.
    pub author_id: Option<String>,
}

impl Comment {
    /// Written by a reader the site signed in.
    pub fn verified(&self) -> bool {
        self.author_id.is_some()
    }
}

/// Sort order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    Oldest,
    /// Newest first.
    Newest,
    /// Highest Wilson score of its votes first, then oldest.
    Best,
}

/// A position in a listing: the `(created, id)` of the last item seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Creation time (ms) of the last item.
    pub created: i64,
    /// Id of the last item.
    pub id: i64,
}

/// Which comments the moderation queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Statuses to include.
    pub statuses: Vec<Status>,
    /// Text the comment contains (case-insensitive).
    pub text: Option<String>,
    /// Text the author's name or e-mail contains (case-insensitive).
    pub author: Option<String>,
    /// Exact IP hash.
    pub ip_hash: Option<String>,
    /// Exact thread key.
    pub thread: Option<String>,
    /// Only comments whose author appealed a decision not yet looked at
    /// again (any status).
    pub appealed: bool,
}

/// One page of comments.
#[derive(Debug, Clone)]
pub struct Page {
    /// The comments.
    pub comments: Vec<Comment>,
    /// Opaque cursor for the next page, if there may be one.
    pub next_cursor: Option<String>,
}

// Cursors are made and read by the service (the `server` feature).
#[cfg(feature = "server")]
pub(crate) fn encode_cursor(created: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{created}.{id}"))
}

#[cfg(feature = "server")]
pub(crate) fn decode_cursor(s: &str) -> Result<Position, Error> {
    let bad = || {
        Error::invalid(
            "cursor",
            "this cursor is not one the service gave out; start again without it",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (created, id) = text.split_once('.').ok_or_else(bad)?;
    Ok(Position {
        created: created.parse().map_err(|_| bad())?,
        id: id.parse().map_err(|_| bad())?,
    })
}

/// A position in a thread listing: what its order sorts by, of the last
/// item seen. Pinned comments come first in every order; `best` sorts by
/// the stored Wilson score next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition {
    /// The last item was pinned.
    pub pinned: bool,
    /// Its Wilson score (see [`crate::vote::wilson`]).
    pub wilson: i64,
    /// Creation time (ms).
    pub created: i64,
    /// Id.
    pub id: i64,
}

#[cfg(feature = "server")]
pub(crate) fn encode_list_cursor(c: &Comment) -> String {
    let p = u8::from(c.standing.pinned);
    let w = crate::vote::wilson(c.standing.upvotes, c.standing.downvotes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("p{p}.{w}.{}.{}", c.created, c.id))
}

/// Reads a listing cursor; one given out before pins and votes existed
/// (`created.id`) is a position among unpinned comments.
#[cfg(feature = "server")]
pub(crate) fn decode_list_cursor(s: &str) -> Result<ListPosition, Error> {
    let bad = || {
        Error::invalid(
            "cursor",
            "this cursor is not one the service gave out; start again without it",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let Some(rest) = text.strip_prefix('p') else {
        let old = decode_cursor(s)?;
        return Ok(ListPosition {
            pinned: false,
            wilson: 0,
            created: old.created,
            id: old.id,
        });
    };
    let mut parts = rest.splitn(4, '.');
    let mut next = || parts.next().ok_or_else(bad);
    let pinned = match next()? {
        "0" => false,
        "1" => true,
        _ => return Err(bad()),
    };
    Ok(ListPosition {
        pinned,
        wilson: next()?.parse().map_err(|_| bad())?,
        created: next()?.parse().map_err(|_| bad())?,
        id: next()?.parse().map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_checks_explain_themselves() {
        assert!(Email::parse("a@b").is_err());
        assert_eq!(
            Email::parse(" a@b.cd ").ok().flatten().as_deref(),
            Some("a@b.cd")
        );
        assert_eq!(Email::parse("  ").ok().flatten(), None);
        assert!(Homepage::parse("javascript:alert(1)", 100).is_err());
        assert!(AuthorName::parse("a\nb", 10).is_err());
        assert_eq!(AuthorName::parse("   ", 10).ok().flatten(), None);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor(1_700_000_000_000, 42);
        assert_eq!(
            decode_cursor(&c).ok(),
            Some(Position {
                created: 1_700_000_000_000,
                id: 42
            })
        );
        assert!(decode_cursor("not a cursor!").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1.x")).is_err()
        );
    }
}
