//! Moving a site's comments in and out: imports from WordPress (WXR),
//! Disqus (XML), Drupal 7 (CSV or JSON), Isso (SQLite) and our own export,
//! and exports as JSON Lines or WXR.
//!
//! An import reads its file twice. The first pass only checks that the file
//! is well-formed and counts the comments, so a malformed file changes
//! nothing and the progress bar knows its length. The second pass parses
//! again on a blocking thread, cleans and renders each comment through its
//! format's policy, and hands batches to the store, which writes each in
//! one transaction. Every imported comment keeps its source id
//! (`wordpress:123`), so running the same import again adds nothing.
//! Replies are linked to their parents by source id once every comment is
//! in, so the order of the file does not matter and memory stays bounded.

mod disqus;
mod drupal7;
pub mod export;
mod isso;
mod native;
mod wordpress;
mod xml;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::clock::now_ms;
use crate::comment::{
    AuthorName, Comment, Email, Homepage, SiteId, Status, ThreadKey, ThreadState,
};
use crate::error::Error;
use crate::service::Colloquy;
use crate::site::SiteSettings;
use crate::store::{ImportRow, ImportThread, RowOutcome};

/// The systems an import reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A WordPress WXR export (also our own `--format wxr` export).
    Wordpress,
    /// A Disqus XML export.
    Disqus,
    /// Drupal 7's `comment` and `field_data_comment_body` columns, as CSV
    /// or JSON.
    Drupal7,
    /// An Isso SQLite database.
    Isso,
    /// Our own JSON Lines export.
    Colloquy,
}

impl Kind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [Kind; 5] = [
        Kind::Wordpress,
        Kind::Disqus,
        Kind::Drupal7,
        Kind::Isso,
        Kind::Colloquy,
    ];

    /// The kind's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Wordpress => "wordpress",
            Kind::Disqus => "disqus",
            Kind::Drupal7 => "drupal7",
            Kind::Isso => "isso",
            Kind::Colloquy => "colloquy",
        }
    }

    /// Parses a kind's name.
    ///
    /// # Errors
    /// An unknown name; the message lists the known ones.
    pub fn parse(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown source `{s}`; choose one of: {}", known.join(", "))
            })
    }

    /// The format comments of this kind are stored in unless the record
    /// names one: the closest of ours to how the old system treated them.
    fn default_format(self) -> &'static str {
        match self {
            // Both store comments as HTML from a short whitelist, with line
            // breaks turned into paragraphs when shown.
            Kind::Wordpress | Kind::Disqus => "filtered_html",
            // Isso stores the Markdown the commenter typed.
            Kind::Isso => "markdown",
            Kind::Drupal7 | Kind::Colloquy => "filtered_html",
        }
    }
}

/// What an imported thread is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadKeyFrom {
    /// The article's permalink as the export gives it.
    #[default]
    Permalink,
    /// The path of the permalink (`/2024/01/hello/`), for a site that
    /// moved domains.
    Path,
    /// The old system's id of the article (post id, Disqus identifier,
    /// Drupal node id).
    Id,
}

impl ThreadKeyFrom {
    /// Parses `permalink`, `path` or `id`.
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(s: &str) -> Result<ThreadKeyFrom, String> {
        match s {
            "permalink" => Ok(ThreadKeyFrom::Permalink),
            "path" => Ok(ThreadKeyFrom::Path),
            "id" => Ok(ThreadKeyFrom::Id),
            _ => Err(format!(
                "unknown thread key `{s}`; choose one of: permalink, path, id"
            )),
        }
    }

    /// The key for an article with this permalink and id: the preferred
    /// one, else whichever exists.
    fn pick(self, permalink: Option<&str>, id: Option<&str>) -> Option<String> {
        let permalink = permalink.map(str::trim).filter(|s| !s.is_empty());
        let id = id.map(str::trim).filter(|s| !s.is_empty());
        let path = || {
            permalink.map(|p| match url::Url::parse(p) {
                Ok(u) if u.has_host() => match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_owned(),
                },
                _ => p.to_owned(),
            })
        };
        match self {
            ThreadKeyFrom::Permalink => permalink.map(str::to_owned).or(id.map(str::to_owned)),
            ThreadKeyFrom::Path => path().or(id.map(str::to_owned)),
            ThreadKeyFrom::Id => id.map(str::to_owned).or_else(path),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The system the file comes from.
    pub kind: Kind,
    /// What threads are keyed by.
    pub thread_key: ThreadKeyFrom,
    /// Store every comment in this format instead of the kind's default
    /// (or the format a Drupal record names).
    pub format: Option<String>,
}

/// Comments per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Published.
    pub published: u64,
    /// Waiting for moderation.
    pub pending: u64,
    /// Spam.
    pub spam: u64,
    /// Trash.
    pub trash: u64,
}

impl StatusCounts {
    fn add(&mut self, s: Status) {
        match s {
            Status::Published => self.published += 1,
            Status::Pending => self.pending += 1,
            Status::Spam => self.spam += 1,
            Status::Trash => self.trash += 1,
        }
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.published + self.pending + self.spam + self.trash
    }
}

/// A record that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it is: `file:line` or `file: row`.
    pub place: String,
    /// Its id in the old system, when it has one.
    pub source: Option<String>,
    /// Why it was skipped, and what would make it import.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{}: {s}: {}", self.place, self.reason),
            None => write!(f, "{}: {}", self.place, self.reason),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Comment records read from the file.
    pub read: u64,
    /// Comments stored by this run, per status.
    pub imported: StatusCounts,
    /// Comments an earlier run had already stored.
    pub already: u64,
    /// Distinct threads the imported comments belong to.
    pub threads: u64,
    /// Records not imported, with the reason.
    pub skipped: Vec<Skipped>,
    /// Things done that a person should know about (fields dropped,
    /// replies whose parent is missing, formats the site does not offer).
    pub notes: Vec<String>,
}

/// Why an import failed before storing anything.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not what its kind says: names the place.
    #[error("{file}:{line}: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// The line (1-based).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The file cannot be read.
    #[error("{file}: {message}")]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// The service refused (unknown site or format) or the database failed.
    #[error("{0}")]
    Service(#[from] Error),
}

/// Where a record sits in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// A line of a text file.
    Line(u64),
    /// A row of a database table.
    Row(String),
}

impl Place {
    fn show(&self, file: &str) -> String {
        match self {
            Place::Line(n) => format!("{file}:{n}"),
            Place::Row(r) => format!("{file}: {r}"),
        }
    }
}

/// The comment a record replies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParentRef {
    /// None: a top-level comment.
    None,
    /// The parent's source id (`wordpress:12`).
    Source(String),
    /// The parent's id in our own export.
    Id(i64),
}

/// A thread as a parser reads it.
#[derive(Debug, Clone)]
pub(crate) struct RawThread {
    pub(crate) key: String,
    pub(crate) title: Option<String>,
    pub(crate) state: ThreadState,
    pub(crate) created: Option<i64>,
}

/// A comment as a parser reads it, before cleaning and rendering.
#[derive(Debug, Clone)]
pub(crate) struct RawComment {
    pub(crate) place: Place,
    pub(crate) source: Option<String>,
    /// Our own export: the id to keep.
    pub(crate) keep_id: Option<i64>,
    pub(crate) thread: String,
    pub(crate) parent: ParentRef,
    pub(crate) status: Status,
    /// The format the record names; the kind's default when `None`.
    pub(crate) format: Option<String>,
    pub(crate) body: String,
    pub(crate) author: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) homepage: Option<String>,
    /// A raw IP address; stored only as its keyed hash.
    pub(crate) ip: Option<String>,
    /// An IP hash from our own export.
    pub(crate) ip_hash: Option<String>,
    pub(crate) created: i64,
    pub(crate) modified: Option<i64>,
}

/// A site's settings as our export carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportedSettings {
    pub(crate) formats: Vec<String>,
    pub(crate) default_format: String,
    pub(crate) moderation: crate::moderation::ModerationMode,
    pub(crate) hold_links: u32,
    pub(crate) duplicate_window_secs: u32,
    pub(crate) rules: crate::moderation::SiteRules,
}

/// What a parser hands on, in file order.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// The exporting site's settings (our own export).
    Site(ExportedSettings),
    /// A thread (before or with its first comment).
    Thread(RawThread),
    /// A comment.
    Comment(Box<RawComment>),
    /// A record that cannot be imported.
    Skip {
        place: Place,
        source: Option<String>,
        reason: String,
    },
}

/// The consumer went away (the import failed elsewhere): stop parsing.
#[derive(Debug)]
pub(crate) struct Stop;

/// Where parsers send items.
pub(crate) type Sink<'a> = dyn FnMut(Item) -> Result<(), Stop> + 'a;

/// What a parser needs besides the file.
#[derive(Debug, Clone)]
pub(crate) struct ParseContext {
    pub(crate) path: PathBuf,
    /// The file's name as messages show it.
    pub(crate) file: String,
    pub(crate) thread_key: ThreadKeyFrom,
}

impl ParseContext {
    pub(crate) fn malformed(&self, line: u64, message: impl Into<String>) -> ImportError {
        ImportError::Malformed {
            file: self.file.clone(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn unreadable(&self, message: impl fmt::Display) -> ImportError {
        ImportError::Unreadable {
            file: self.file.clone(),
            message: message.to_string(),
        }
    }

    /// The file is not UTF-8 at `line`.
    pub(crate) fn not_utf8(&self, line: u64) -> ImportError {
        self.malformed(line, NOT_UTF8)
    }

    /// A line of a line-based file could not be read.
    pub(crate) fn line_unread(&self, line: u64, e: &std::io::Error) -> ImportError {
        if e.kind() == std::io::ErrorKind::InvalidData {
            self.not_utf8(line)
        } else {
            self.unreadable(e)
        }
    }
}

/// What a file that is not UTF-8 is told.
pub(crate) const NOT_UTF8: &str = "the file is not UTF-8 text; convert it to UTF-8 first";

/// Runs the parser for `kind` over the file, sending every item to `sink`.
fn parse(kind: Kind, ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    match kind {
        Kind::Wordpress => wordpress::parse(ctx, sink),
        Kind::Disqus => disqus::parse(ctx, sink),
        Kind::Drupal7 => drupal7::parse(ctx, sink),
        Kind::Isso => isso::parse(ctx, sink),
        Kind::Colloquy => native::parse(ctx, sink),
    }
}

/// Comments per batch handed to the store (one transaction each).
const BATCH: usize = 2000;

/// One batch from the parsing thread to the writer.
#[derive(Debug, Default)]
struct Batch {
    site: Option<ExportedSettings>,
    threads: Vec<ImportThread>,
    rows: Vec<(ImportRow, String)>,
    skipped: Vec<Skipped>,
    read: u64,
}

/// Counts of fields dropped while cleaning, with the first place each.
#[derive(Debug, Default)]
struct Dropped(BTreeMap<&'static str, (u64, String)>);

impl Dropped {
    fn note(&mut self, what: &'static str, place: &str) {
        let e = self.0.entry(what).or_insert((0, place.to_owned()));
        e.0 += 1;
    }
}

/// Cleans, checks and renders raw records on the parsing thread.
struct Preparer {
    service: Colloquy,
    site: SiteId,
    kind: Kind,
    format: Option<String>,
    file: String,
    threads_sent: HashSet<String>,
    dropped: Dropped,
    formats_used: BTreeMap<String, u64>,
}

impl Preparer {
    fn thread(&mut self, t: RawThread, first_comment: Option<i64>) -> Result<ImportThread, String> {
        let key = ThreadKey::parse(&t.key).map_err(|e| e.to_string())?;
        let title = t.title.map(|s| one_line(&s, 512)).filter(|s| !s.is_empty());
        Ok(ImportThread {
            key: key.as_str().to_owned(),
            title,
            state: t.state,
            created: t.created.or(first_comment).unwrap_or_else(now_ms),
        })
    }

    fn comment(&mut self, raw: RawComment) -> Result<ImportRow, String> {
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
            },
            keep_id: raw.keep_id.is_some(),
            source: raw.source,
            source_parent,
        })
    }

    /// Adds one parsed item to the batch being filled.
    fn add(&mut self, batch: &mut Batch, item: Item) {
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

/// The file name as messages show it.
fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Imports a file into a site. `progress(done, total)` is called as
/// comments are stored. A malformed file is reported with its place and
/// changes nothing; records that cannot be imported are skipped and listed
/// in the report.
///
/// # Errors
/// Unknown site or format, an unreadable or malformed file, a database
/// failure.
pub async fn import(
    service: &Colloquy,
    site: &SiteId,
    path: &Path,
    options: &ImportOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<ImportReport, ImportError> {
    let row = service.site(site).await?;
    if let Some(f) = &options.format {
        if service.policies().get(f).is_none() {
            let known: Vec<&str> = service.policies().ids().collect();
            return Err(Error::invalid(
                "format",
                format!("`{f}` is not a known format; known: {}", known.join(", ")),
            )
            .into());
        }
    }
    let ctx = ParseContext {
        path: path.to_owned(),
        file: shown(path),
        thread_key: options.thread_key,
    };
    let kind = options.kind;

    // Pass 1: is the file well-formed, and how many comments does it hold?
    // Pass 2 starts parsing and rendering meanwhile, but nothing is stored
    // until pass 1 has found the file sound.
    let check = ctx.clone();
    let checker = tokio::task::spawn_blocking(move || {
        let mut n = 0u64;
        parse(kind, &check, &mut |item| {
            if matches!(item, Item::Comment(_) | Item::Skip { .. }) {
                n += 1;
            }
            Ok(())
        })
        .map(|()| n)
    });

    let had_comments = service.count_site(site).await? > 0;
    let store = service.store().clone();

    // Pass 2: parse, clean and render on a blocking thread; store here.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let mut preparer = Preparer {
        service: service.clone(),
        site: site.clone(),
        kind,
        format: options.format.clone(),
        file: ctx.file.clone(),
        threads_sent: HashSet::new(),
        dropped: Dropped::default(),
        formats_used: BTreeMap::new(),
    };
    let producer = tokio::task::spawn_blocking(move || {
        let mut batch = Batch::default();
        let result = parse(kind, &ctx, &mut |item| {
            preparer.add(&mut batch, item);
            if batch.rows.len() + batch.skipped.len() >= BATCH {
                tx.blocking_send(std::mem::take(&mut batch))
                    .map_err(|_| Stop)?;
            }
            Ok(())
        });
        if result.is_ok() {
            let _ = tx.blocking_send(batch);
        }
        result.map(|()| (preparer.dropped, preparer.formats_used))
    });

    let checked = checker
        .await
        .map_err(|e| Error::internal(format!("the parser stopped: {e}")));
    let total = match checked {
        Ok(Ok(total)) => total,
        Ok(Err(e)) => return Err(stop_producer(rx, producer, e).await),
        Err(e) => return Err(stop_producer(rx, producer, e.into()).await),
    };
    progress(0, total);

    let mut report = ImportReport::default();
    let mut next_id = store.import_id_start(now_ms()).await?;
    let mut threads = HashSet::new();
    let mut settings = None;
    let mut failure = None;
    while let Some(batch) = rx.recv().await {
        report.read += batch.read;
        report.skipped.extend(batch.skipped);
        if batch.site.is_some() {
            settings = batch.site;
        }
        let (mut rows, places): (Vec<ImportRow>, Vec<String>) = batch.rows.into_iter().unzip();
        let outcomes = match store
            .import_batch(site.as_str(), &batch.threads, &mut rows, &mut next_id)
            .await
        {
            Ok(o) => o,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        for ((row, place), outcome) in rows.iter().zip(places).zip(outcomes) {
            match outcome {
                RowOutcome::Inserted => {
                    report.imported.add(row.comment.status);
                    threads.insert(row.comment.thread.clone());
                }
                RowOutcome::AlreadyThere => {
                    report.already += 1;
                    threads.insert(row.comment.thread.clone());
                }
                RowOutcome::IdTaken => report.skipped.push(Skipped {
                    place,
                    source: row.source.clone(),
                    reason: format!(
                        "comment id {} is taken here by another comment",
                        row.comment.id
                    ),
                }),
            }
        }
        progress(report.read, total);
    }
    drop(rx);
    let parsed = producer
        .await
        .map_err(|e| Error::internal(format!("the parser stopped: {e}")))?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    let (dropped, formats_used) = parsed?;
    report.threads = u64::try_from(threads.len()).unwrap_or(u64::MAX);

    for (id, source, parent) in store.link_imported_parents(site.as_str()).await? {
        report.notes.push(format!(
            "comment {id} ({}) replies to {parent}, which is not in its thread: shown as a top-level comment",
            source.as_deref().unwrap_or("no source")
        ));
    }
    for (id, parent) in store.detach_orphans(site.as_str()).await? {
        report.notes.push(format!(
            "comment {id} replied to comment {parent}, which is not in its thread: now a top-level comment"
        ));
    }
    for (what, (n, first)) in dropped.0 {
        report
            .notes
            .push(format!("{what}: {n} left out (the first at {first})"));
    }
    if let Some(s) = settings {
        apply_settings(service, &row, s, had_comments, &mut report).await?;
    }
    let row = service.store().site(site.as_str()).await?.unwrap_or(row);
    for (format, n) in formats_used {
        if !row.formats.contains(&format) {
            report.notes.push(format!(
                "{n} comments are in format `{format}`, which site `{site}` does not offer to new comments \
                 (they show as imported; to offer it: PATCH /api/v1/admin/sites/{site} with its formats)"
            ));
        }
    }
    Ok(report)
}

/// Stops pass 2 after pass 1 failed, and returns pass 1's error.
async fn stop_producer<T>(
    rx: tokio::sync::mpsc::Receiver<Batch>,
    producer: tokio::task::JoinHandle<T>,
    error: ImportError,
) -> ImportError {
    drop(rx);
    let _ = producer.await;
    error
}

/// Our own export carries the site's settings: they are taken over when
/// the site had no comments yet (a move to a new database), and otherwise
/// left as they are.
async fn apply_settings(
    service: &Colloquy,
    current: &SiteSettings,
    s: ExportedSettings,
    had_comments: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let same = current.formats == s.formats
        && current.default_format == s.default_format
        && current.moderation == s.moderation
        && current.hold_links == s.hold_links
        && current.duplicate_window_secs == s.duplicate_window_secs
        && current.rules == s.rules;
    if same {
        return Ok(());
    }
    if had_comments {
        report.notes.push(
            "the export's site settings differ from this site's; this site's are kept (it already had comments)"
                .to_owned(),
        );
        return Ok(());
    }
    let site = SiteId::parse(&current.id)?;
    let rules = match serde_json::to_value(&s.rules) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let changes = crate::site::SiteChanges {
        formats: Some(s.formats),
        default_format: Some(s.default_format),
        moderation: Some(s.moderation),
        hold_links: Some(s.hold_links),
        duplicate_window_secs: Some(s.duplicate_window_secs),
        rules,
    };
    let taken = service
        .update_site(&site, changes, &crate::audit::Actor::System)
        .await;
    report.notes.push(match taken {
        Ok(_) => "the site's settings were taken from the export".to_owned(),
        // The comments are in; settings this installation cannot offer
        // (a format without a policy here) are reported, not fatal.
        Err(e) => format!("the export's site settings were not taken: {e}"),
    });
    Ok(())
}

/// Seconds (possibly fractional) since the epoch, as milliseconds.
pub(crate) fn seconds_to_ms(s: f64) -> Option<i64> {
    let ms = (s * 1000.0).round();
    (ms.is_finite() && (0.0..9.0e15).contains(&ms)).then_some(ms as i64)
}

/// `2024-01-31T12:00:00Z` (or with an offset, or fractional seconds) as
/// milliseconds.
pub(crate) fn rfc3339_to_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// WordPress's `2024-01-31 12:00:00` (UTC) as milliseconds.
pub(crate) fn sql_datetime_to_ms(s: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let t = time::PrimitiveDateTime::parse(s.trim(), &f).ok()?;
    i64::try_from(t.assume_utc().unix_timestamp_nanos() / 1_000_000).ok()
}

impl From<crate::store::StoreError> for ImportError {
    fn from(e: crate::store::StoreError) -> ImportError {
        ImportError::Service(Error::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_keys_prefer_what_was_asked_and_fall_back() {
        let link = Some("https://blog.example/2024/01/hello/?p=5");
        assert_eq!(
            ThreadKeyFrom::Permalink.pick(link, Some("5")).as_deref(),
            link
        );
        assert_eq!(
            ThreadKeyFrom::Path.pick(link, Some("5")).as_deref(),
            Some("/2024/01/hello/?p=5")
        );
        assert_eq!(
            ThreadKeyFrom::Id.pick(link, Some("5")).as_deref(),
            Some("5")
        );
        assert_eq!(
            ThreadKeyFrom::Permalink
                .pick(Some("  "), Some("7"))
                .as_deref(),
            Some("7")
        );
        assert_eq!(ThreadKeyFrom::Id.pick(None, None), None);
    }

    #[test]
    fn dates_of_each_system_parse_to_milliseconds() {
        assert_eq!(
            sql_datetime_to_ms("2023-11-14 22:13:20"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            rfc3339_to_ms("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            rfc3339_to_ms("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000_000)
        );
        assert_eq!(seconds_to_ms(1_700_000_000.5), Some(1_700_000_000_500));
        assert_eq!(sql_datetime_to_ms("0000-00-00 00:00:00"), None);
        assert_eq!(seconds_to_ms(f64::NAN), None);
        assert_eq!(seconds_to_ms(-1.0), None);
    }

    #[test]
    fn field_values_lose_control_characters_and_length() {
        assert_eq!(one_line(" Ann\n\u{7}Lee ", 100), "Ann  Lee");
        assert_eq!(one_line("ééééé", 3), "ééé");
    }
}
