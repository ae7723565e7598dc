//! Exports: everything stored for a site — its settings, threads, and
//! comments with raw text, format, status, parent, source and times — as
//! JSON Lines (lossless; `colloquy import --from colloquy` reads it back) or
//! as a WordPress WXR file (which `--from wordpress` reads back exactly,
//! and other systems' WordPress importers understand). E-mail addresses
//! and IP hashes are written only when asked for. Reads a page at a time,
//! so memory does not grow with the site.

use std::io::Write;

use crate::clock::rfc3339;
use crate::comment::{SiteId, Status, ThreadState};
use crate::error::Error;
use crate::service::Colloquy;
use crate::store::{ExportComment, ExportThread};

use super::native::{Line, EXPORT_VERSION};
use super::xml::{cdata, escape_text};

/// The layouts an export can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// JSON Lines, one object per line.
    Json,
    /// WordPress eXtended RSS.
    Wxr,
}

impl ExportFormat {
    /// Parses `json` or `wxr`.
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(s: &str) -> Result<ExportFormat, String> {
        match s {
            "json" => Ok(ExportFormat::Json),
            "wxr" => Ok(ExportFormat::Wxr),
            _ => Err(format!("unknown export format `{s}`; choose json or wxr")),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Threads written.
    pub threads: u64,
    /// Comments written.
    pub comments: u64,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output could not be written.
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    /// Unknown site, or a database failure.
    #[error("{0}")]
    Service(#[from] Error),
}

/// The namespace of our additions to WXR.
const COLLOQUY_NS: &str = "https://colloquy.invalid/export/1";

/// Threads and comments read per query.
const PAGE: i64 = 500;

/// Writes a site's export to `out`.
///
/// # Errors
/// Unknown site, a database failure, or a failed write.
pub async fn export(
    service: &Colloquy,
    site: &SiteId,
    format: ExportFormat,
    include_private: bool,
    out: &mut (dyn Write + Send),
) -> Result<ExportSummary, ExportError> {
    let row = service.site(site).await?;
    let store = service.store();
    let mut summary = ExportSummary::default();
    match format {
        ExportFormat::Json => {
            json_line(
                out,
                &Line::Site {
                    id: row.id.clone(),
                    version: EXPORT_VERSION,
                    formats: row.formats.clone(),
                    default_format: row.default_format.clone(),
                    moderation: row.moderation.as_str().to_owned(),
                    hold_links: row.hold_links,
                    duplicate_window_secs: row.duplicate_window_secs,
                    rules: Some(row.rules.clone()),
                },
            )?;
        }
        ExportFormat::Wxr => {
            write!(
                out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" \
                 xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
                 xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\" \
                 xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
                 xmlns:wp=\"http://wordpress.org/export/1.2/\" xmlns:colloquy=\"{COLLOQUY_NS}\">\n\
                 <channel>\n<title>{}</title>\n<wp:wxr_version>1.2</wp:wxr_version>\n",
                escape_text(&row.id)
            )?;
        }
    }
    let mut after: Option<String> = None;
    loop {
        let threads = store
            .export_threads(site.as_str(), after.as_deref(), PAGE)
            .await?;
        let Some(last) = threads.last() else { break };
        after = Some(last.key.clone());
        for t in &threads {
            summary.threads += 1;
            match format {
                ExportFormat::Json => json_line(
                    out,
                    &Line::Thread {
                        key: t.key.clone(),
                        title: t.title.clone(),
                        state: t.state,
                        created: rfc3339(t.created),
                    },
                )?,
                ExportFormat::Wxr => wxr_item_start(out, t, summary.threads)?,
            }
            let mut position: Option<(Status, i64, i64)> = None;
            loop {
                let comments = store
                    .export_comments(site.as_str(), &t.key, position, PAGE)
                    .await?;
                let Some(last) = comments.last() else { break };
                let c = &last.comment;
                position = Some((c.status, c.created, c.id));
                for c in &comments {
                    summary.comments += 1;
                    match format {
                        ExportFormat::Json => json_line(out, &comment_line(c, include_private))?,
                        ExportFormat::Wxr => wxr_comment(out, c, include_private)?,
                    }
                }
            }
            if format == ExportFormat::Wxr {
                writeln!(out, "</item>")?;
            }
        }
    }
    if format == ExportFormat::Wxr {
        writeln!(out, "</channel>\n</rss>")?;
    }
    out.flush()?;
    Ok(summary)
}

fn json_line(out: &mut (dyn Write + Send), line: &Line) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn comment_line(e: &ExportComment, include_private: bool) -> Line {
    let c = &e.comment;
    Line::Comment {
        id: c.id,
        thread: c.thread.to_string(),
        parent: c.parent,
        source: e.source.clone(),
        status: c.status,
        format: c.format.clone(),
        body: c.body.clone(),
        author: c.author.as_deref().map(str::to_owned),
        email: c
            .email
            .as_deref()
            .map(str::to_owned)
            .filter(|_| include_private),
        homepage: c.homepage.as_deref().map(str::to_owned),
        ip_hash: c.ip_hash.clone().filter(|_| include_private),
        created: rfc3339(c.created),
        modified: c.modified.map(rfc3339),
    }
}

/// `2024-01-31 12:00:00`, as WordPress writes times.
fn sql_datetime(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&f).unwrap_or_default()
}

fn wxr_item_start(
    out: &mut (dyn Write + Send),
    t: &ExportThread,
    n: u64,
) -> Result<(), ExportError> {
    writeln!(out, "<item>")?;
    writeln!(
        out,
        "<title>{}</title>",
        cdata(t.title.as_deref().unwrap_or(""))
    )?;
    if t.key.starts_with("http://") || t.key.starts_with("https://") {
        writeln!(out, "<link>{}</link>", escape_text(&t.key))?;
    }
    let comment_status = if t.state == ThreadState::Open {
        "open"
    } else {
        "closed"
    };
    writeln!(
        out,
        "<wp:post_id>{n}</wp:post_id>\n<wp:post_date_gmt>{}</wp:post_date_gmt>\n\
         <wp:comment_status>{comment_status}</wp:comment_status>\n\
         <wp:post_type>post</wp:post_type>\n<wp:status>publish</wp:status>\n\
         <colloquy:thread>{}</colloquy:thread>\n<colloquy:state>{}</colloquy:state>\n\
         <colloquy:created>{}</colloquy:created>",
        sql_datetime(t.created),
        escape_text(&t.key),
        t.state.as_str(),
        rfc3339(t.created)
    )?;
    Ok(())
}

fn wxr_comment(
    out: &mut (dyn Write + Send),
    e: &ExportComment,
    include_private: bool,
) -> Result<(), ExportError> {
    let c = &e.comment;
    let approved = match c.status {
        Status::Published => "1",
        Status::Pending => "0",
        Status::Spam => "spam",
        Status::Trash => "trash",
    };
    let email = c.email.as_deref().filter(|_| include_private).unwrap_or("");
    let date = sql_datetime(c.created);
    writeln!(
        out,
        "<wp:comment>\n<wp:comment_id>{}</wp:comment_id>\n\
         <wp:comment_author>{}</wp:comment_author>\n\
         <wp:comment_author_email>{}</wp:comment_author_email>\n\
         <wp:comment_author_url>{}</wp:comment_author_url>\n\
         <wp:comment_author_IP></wp:comment_author_IP>\n\
         <wp:comment_date>{date}</wp:comment_date>\n<wp:comment_date_gmt>{date}</wp:comment_date_gmt>\n\
         <wp:comment_content>{}</wp:comment_content>\n\
         <wp:comment_approved>{approved}</wp:comment_approved>\n\
         <wp:comment_type>comment</wp:comment_type>\n\
         <wp:comment_parent>{}</wp:comment_parent>\n\
         <colloquy:format>{}</colloquy:format>",
        c.id,
        cdata(c.author.as_deref().unwrap_or("")),
        escape_text(email),
        escape_text(c.homepage.as_deref().unwrap_or("")),
        cdata(&c.body),
        c.parent.unwrap_or(0),
        escape_text(&c.format),
    )?;
    if let Some(s) = &e.source {
        writeln!(out, "<colloquy:source>{}</colloquy:source>", escape_text(s))?;
    }
    if let Some(h) = c.ip_hash.as_deref().filter(|_| include_private) {
        writeln!(
            out,
            "<colloquy:ip_hash>{}</colloquy:ip_hash>",
            escape_text(h)
        )?;
    }
    writeln!(
        out,
        "<colloquy:created>{}</colloquy:created>",
        rfc3339(c.created)
    )?;
    if let Some(m) = c.modified {
        writeln!(out, "<colloquy:modified>{}</colloquy:modified>", rfc3339(m))?;
    }
    writeln!(out, "</wp:comment>")?;
    Ok(())
}

impl From<crate::store::StoreError> for ExportError {
    fn from(e: crate::store::StoreError) -> ExportError {
        ExportError::Service(Error::from(e))
    }
}
