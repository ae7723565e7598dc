//! Our own export, JSON Lines: one object per line, tagged by `type` —
//! the site's settings, then each thread followed by its comments. Shared
//! by [`super::export`] (writing) and the `colloquy` import (reading),
//! which keeps every id, parent, source and time as exported.

use std::fs::File;
use std::io::{BufRead, BufReader};

use serde::{Deserialize, Serialize};

use crate::comment::{Status, ThreadState};
use crate::moderation::ModerationMode;

use super::wordpress::stopped;
use super::{
    rfc3339_to_ms, ExportedSettings, ImportError, Item, ParentRef, ParseContext, Place, RawComment,
    RawThread, Sink,
};

/// The version of the export's layout.
pub(crate) const EXPORT_VERSION: u32 = 1;

/// One line of the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Line {
    /// The site and its settings (first line).
    Site {
        id: String,
        version: u32,
        formats: Vec<String>,
        default_format: String,
        moderation: String,
        hold_links: u32,
        duplicate_window_secs: u32,
        /// The further moderation rules (absent in older exports).
        #[serde(default)]
        rules: Option<crate::moderation::SiteRules>,
    },
    /// A thread; its comments follow.
    Thread {
        key: String,
        title: Option<String>,
        state: ThreadState,
        created: String,
    },
    /// A comment, with its raw text and format.
    Comment {
        id: i64,
        thread: String,
        parent: Option<i64>,
        source: Option<String>,
        status: Status,
        format: String,
        body: String,
        author: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        homepage: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ip_hash: Option<String>,
        created: String,
        modified: Option<String>,
    },
}

/// Reads our JSON Lines export.
pub(super) fn parse(ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let file = BufReader::new(File::open(&ctx.path).map_err(|e| ctx.unreadable(e))?);
    let mut saw_site = false;
    for (n, line) in file.lines().enumerate() {
        let number = n as u64 + 1;
        let line = line.map_err(|e| ctx.line_unread(number, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| {
            let message = e.to_string();
            let message = match message.split_once(" at line ") {
                Some((m, _)) => m.to_owned(),
                None => message,
            };
            ctx.malformed(
                number,
                format!("not a line of a Colloquy export: {message}"),
            )
        })?;
        let item = match parsed {
            Line::Site {
                version,
                formats,
                default_format,
                moderation,
                hold_links,
                duplicate_window_secs,
                rules,
                ..
            } => {
                if version != EXPORT_VERSION {
                    return Err(ctx.malformed(
                        number,
                        format!("export version {version}; this Colloquy reads version {EXPORT_VERSION}"),
                    ));
                }
                let Some(moderation) = ModerationMode::parse(&moderation) else {
                    return Err(ctx.malformed(
                        number,
                        format!("moderation `{moderation}` is not publish, hold or rules"),
                    ));
                };
                saw_site = true;
                Item::Site(ExportedSettings {
                    formats,
                    default_format,
                    moderation,
                    hold_links,
                    duplicate_window_secs,
                    rules: rules.unwrap_or_default(),
                })
            }
            Line::Thread {
                key,
                title,
                state,
                created,
            } => Item::Thread(RawThread {
                key,
                title,
                state,
                created: rfc3339_to_ms(&created),
            }),
            Line::Comment {
                id,
                thread,
                parent,
                source,
                status,
                format,
                body,
                author,
                email,
                homepage,
                ip_hash,
                created,
                modified,
            } => {
                let place = Place::Line(number);
                match rfc3339_to_ms(&created) {
                    _ if !(1..(1i64 << 53)).contains(&id) => Item::Skip {
                        place,
                        source,
                        reason: format!("id {id} is not between 1 and 2^53"),
                    },
                    None => Item::Skip {
                        place,
                        source,
                        reason: format!("created `{created}` is not an RFC 3339 time"),
                    },
                    Some(created) => Item::Comment(Box::new(RawComment {
                        place,
                        source,
                        keep_id: Some(id),
                        thread,
                        parent: parent.map_or(ParentRef::None, ParentRef::Id),
                        status,
                        format: Some(format),
                        body,
                        author,
                        email,
                        homepage,
                        ip: None,
                        ip_hash,
                        created,
                        modified: modified.as_deref().and_then(rfc3339_to_ms),
                    })),
                }
            }
        };
        sink(item).map_err(|_| stopped())?;
    }
    if !saw_site {
        return Err(ctx.malformed(
            1,
            "no `site` line: this is not a Colloquy export (colloquy export --format json)",
        ));
    }
    Ok(())
}
