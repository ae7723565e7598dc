//! An import from start to end: the checking pass, the parsing thread and
//! the writer, the report.

use super::*;
use crate::clock::now_ms;
use crate::comment::SiteId;
use crate::error::Error;
use crate::service::Colloquy;
use crate::site::SiteSettings;
use crate::store::{ImportRow, RowOutcome};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// The file name as messages show it.
pub(crate) fn shown(path: &Path) -> String {
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
pub(crate) async fn stop_producer<T>(
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
pub(crate) async fn apply_settings(
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
        origins: None,
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
