//! Cleaning, checking and rendering records on the parsing thread, and
//! grouping them into batches for the writer.

use super::*;
use crate::clock::now_ms;
use crate::comment::{
    AuthorName, Comment, Email, Homepage, SiteId, Status, ThreadKey, ThreadState,
};
use crate::service::Colloquy;
use crate::store::{ImportRow, ImportThread};
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// One batch from the parsing thread to the writer.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) site: Option<ExportedSettings>,
    pub(crate) threads: Vec<ImportThread>,
    pub(crate) rows: Vec<(ImportRow, String)>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) read: u64,
}

/// Counts of fields dropped while cleaning, with the first place each.
#[derive(Debug, Default)]
pub(crate) struct Dropped(pub(crate) BTreeMap<&'static str, (u64, String)>);

impl Dropped {
    pub(crate) fn note(&mut self, what: &'static str, place: &str) {
        let e = self.0.entry(what).or_insert((0, place.to_owned()));
        e.0 += 1;
    }
}

/// Cleans, checks and renders raw records on the parsing thread.
pub(crate) struct Preparer {
    pub(crate) service: Colloquy,
    pub(crate) site: SiteId,
    pub(crate) kind: Kind,
    pub(crate) format: Option<String>,
    pub(crate) file: String,
    pub(crate) threads_sent: HashSet<String>,
    pub(crate) dropped: Dropped,
    pub(crate) formats_used: BTreeMap<String, u64>,
}

impl Preparer {
    pub(crate) fn thread(
        &mut self,
        t: RawThread,
        first_comment: Option<i64>,
    ) -> Result<ImportThread, String> {
        let key = ThreadKey::parse(&t.key).map_err(|e| e.to_string())?;
        let title = t.title.map(|s| one_line(&s, 512)).filter(|s| !s.is_empty());
        Ok(ImportThread {
            key: key.as_str().to_owned(),
            title,
            state: t.state,
            created: t.created.or(first_comment).unwrap_or_else(now_ms),
        })
    }

    pub(crate) fn comment(&mut self, raw: RawComment) -> Result<ImportRow, String> {
        let place = raw.place.show(&self.file);
        let thread = ThreadKey::parse(&raw.thread).map_err(|e| e.to_string())?;
        let format = self
            .format
            .clone()
            .or(raw.format)
            .unwrap_or_else(|| self.kind.default_format().to_owned());
        let policies = self.service.policies();
        let Some(policy) = policies.get(&format) else {
            let known: Vec<&str> = policies.ids().collect();
            return Err(format!(
                "format `{format}` has no policy here (known: {}); add policies/{format}.toml \
                 or choose one with --format, then import again",
                known.join(", ")
            ));
        };
        if raw.body.trim().is_empty() && raw.status != Status::Trash {
            return Err("the comment is empty".to_owned());
        }
        let max = self.service.config().limits.max_comment_chars;
        let chars = raw.body.chars().count();
        if chars > max {
            return Err(format!(
                "the comment has {chars} characters; the limit is {max} \
                 (raise limits.max_comment_chars and import again)"
            ));
        }
        let max_author = self.service.config().limits.max_author_chars;
        let author = raw.author.and_then(|a| AuthorName::lenient(&a, max_author));
        let email = match raw.email.filter(|e| !e.trim().is_empty()) {
            Some(e) => Email::parse(&e).unwrap_or_else(|_| {
                self.dropped
                    .note("e-mail addresses that are not valid", &place);
                None
            }),
            None => None,
        };
        let max_homepage = self.service.config().limits.max_homepage_chars;
        let homepage = match raw
            .homepage
            .filter(|h| !matches!(h.trim(), "" | "http://" | "https://"))
        {
            Some(h) => Homepage::parse(&h, max_homepage).unwrap_or_else(|_| {
                self.dropped
                    .note("homepages that are not http(s) addresses", &place);
                None
            }),
            None => None,
        };
        let ip_hash = match (raw.ip.filter(|s| !s.trim().is_empty()), raw.ip_hash) {
            (Some(ip), _) => match ip.trim().parse::<IpAddr>() {
                Ok(ip) => Some(self.service.hash_ip(ip)),
                Err(_) => {
                    self.dropped.note("IP addresses that do not parse", &place);
                    None
                }
            },
            (None, Some(h)) if h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(h.to_ascii_lowercase())
            }
            (None, Some(_)) => {
                self.dropped.note("IP hashes that are not ours", &place);
                None
            }
            (None, None) => None,
        };
        let rendered = policy.render(&raw.body);
        *self.formats_used.entry(format.clone()).or_default() += 1;
        let (parent, source_parent) = match raw.parent {
            ParentRef::None => (None, None),
            ParentRef::Id(id) => (Some(id), None),
            ParentRef::Source(s) => (None, Some(s)),
        };
        Ok(ImportRow {
            comment: Comment {
                author_id: None,
                id: raw.keep_id.unwrap_or(0),
                site: self.site.clone(),
                thread,
                parent,
                status: raw.status,
                format,
                body: raw.body,
                html: rendered.html,
                policy_version: rendered.policy_version,
                author,
                email,
                homepage,
                ip_hash,
                created: raw.created,
                modified: raw.modified,
                reasons: Vec::new(),
                notify_replies: false,
                standing: Default::default(),
            },
            keep_id: raw.keep_id.is_some(),
            source: raw.source,
            source_parent,
        })
    }

    /// Adds one parsed item to the batch being filled.
    pub(crate) fn add(&mut self, batch: &mut Batch, item: Item) {
        match item {
            Item::Site(s) => batch.site = Some(s),
            Item::Thread(t) => {
                let key = t.key.clone();
                match self.thread(t, None) {
                    Ok(t) => {
                        self.threads_sent.insert(t.key.clone());
                        batch.threads.push(t);
                    }
                    Err(reason) => batch.skipped.push(Skipped {
                        place: self.file.clone(),
                        source: None,
                        reason: format!("thread `{}`: {reason}", one_line(&key, 80)),
                    }),
                }
            }
            Item::Comment(raw) => {
                batch.read += 1;
                let place = raw.place.show(&self.file);
                let source = raw.source.clone();
                let created = raw.created;
                match self.comment(*raw) {
                    Ok(row) => {
                        if !self.threads_sent.contains(row.comment.thread.as_str()) {
                            self.threads_sent.insert(row.comment.thread.to_string());
                            batch.threads.push(ImportThread {
                                key: row.comment.thread.to_string(),
                                title: None,
                                state: ThreadState::Open,
                                created,
                            });
                        }
                        batch.rows.push((row, place));
                    }
                    Err(reason) => batch.skipped.push(Skipped {
                        place,
                        source,
                        reason,
                    }),
                }
            }
            Item::Skip {
                place,
                source,
                reason,
            } => {
                batch.read += 1;
                batch.skipped.push(Skipped {
                    place: place.show(&self.file),
                    source,
                    reason,
                });
            }
        }
    }
}

/// A field value on one line: control characters become spaces, blank
/// space is trimmed, and it is cut to `max` characters.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    crate::comment::one_visible_line(s, max)
}
