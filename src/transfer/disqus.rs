//! Disqus XML exports (Admin → Moderation → Export), read as a stream.
//!
//! `<thread dsq:id>` elements come first (link, identifier, title, closed
//! or deleted), then `<post dsq:id>` elements naming their thread and
//! parent by `dsq:id`. Posts become comments with source `disqus:ID`;
//! spam is spam, deleted posts go to the trash, unapproved ones wait in
//! the queue. A thread is created only when one of its posts is imported
//! (Disqus lists every page ever visited).

use std::collections::HashMap;

use crate::comment::{Status, ThreadState};

use super::wordpress::stopped;
use super::xml::{Step, XmlStream};
use super::{
    rfc3339_to_ms, ImportError, Item, ParentRef, ParseContext, Place, RawComment, RawThread, Sink,
    Stop,
};

#[derive(Debug, Default)]
struct DsqThread {
    dsq_id: String,
    identifier: Option<String>,
    link: Option<String>,
    title: Option<String>,
    created: Option<String>,
    closed: Option<String>,
    deleted: Option<String>,
}

#[derive(Debug, Default)]
struct Post {
    line: u64,
    dsq_id: String,
    message: Option<String>,
    too_long: bool,
    created: Option<String>,
    deleted: Option<String>,
    spam: Option<String>,
    approved: Option<String>,
    name: Option<String>,
    email: Option<String>,
    username: Option<String>,
    ip: Option<String>,
    thread: Option<String>,
    parent: Option<String>,
}

/// A known thread: its key (or why it has none), and whether it was sent.
type Known = (Result<RawThread, String>, bool);

fn yes(v: &Option<String>) -> bool {
    v.as_deref().map(str::trim) == Some("true")
}

/// Reads a Disqus export.
pub(super) fn parse(ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let mut xml = XmlStream::open(ctx)?;
    let mut threads: HashMap<String, Known> = HashMap::new();
    let mut thread: Option<DsqThread> = None;
    let mut post: Option<Post> = None;
    let mut in_author = false;
    let mut saw_root = false;
    loop {
        match xml.next()? {
            Step::End => break,
            Step::Open => {
                let depth = xml.depth();
                let dsq_id = xml.attr("dsq:id").unwrap_or("").trim().to_owned();
                match depth {
                    1 => {
                        if xml.name != "disqus" {
                            return Err(ctx.malformed(
                                xml.line(),
                                format!(
                                    "expected a Disqus export (<disqus>), found <{}>",
                                    xml.name
                                ),
                            ));
                        }
                        saw_root = true;
                    }
                    2 if xml.name == "thread" => {
                        thread = Some(DsqThread {
                            dsq_id,
                            ..DsqThread::default()
                        });
                    }
                    2 if xml.name == "post" => {
                        post = Some(Post {
                            line: xml.line(),
                            dsq_id,
                            ..Post::default()
                        });
                    }
                    3 => {
                        if thread.is_some() {
                            if matches!(
                                xml.name.as_str(),
                                "id" | "link" | "title" | "createdAt" | "isClosed" | "isDeleted"
                            ) {
                                xml.collect();
                            }
                        } else if let Some(p) = post.as_mut() {
                            match xml.name.as_str() {
                                "thread" => p.thread = Some(dsq_id),
                                "parent" => p.parent = Some(dsq_id),
                                "author" => in_author = true,
                                "message" | "createdAt" | "isDeleted" | "isSpam" | "isApproved"
                                | "ipAddress" => xml.collect(),
                                _ => {}
                            }
                        }
                    }
                    4 if in_author
                        && matches!(xml.name.as_str(), "name" | "email" | "username") =>
                    {
                        xml.collect();
                    }
                    _ => {}
                }
            }
            Step::Close => {
                let depth = xml.depth() + 1;
                match depth {
                    2 if xml.name == "thread" => {
                        if let Some(t) = thread.take() {
                            let known = raw_thread(ctx, &t);
                            threads.insert(t.dsq_id, (known, false));
                        }
                    }
                    2 if xml.name == "post" => {
                        if let Some(p) = post.take() {
                            emit(p, &mut threads, sink).map_err(|Stop| stopped())?;
                        }
                    }
                    3 => {
                        if let Some(t) = thread.as_mut() {
                            let slot = match xml.name.as_str() {
                                "id" => &mut t.identifier,
                                "link" => &mut t.link,
                                "title" => &mut t.title,
                                "createdAt" => &mut t.created,
                                "isClosed" => &mut t.closed,
                                "isDeleted" => &mut t.deleted,
                                _ => continue,
                            };
                            *slot = xml.take_text();
                        } else if let Some(p) = post.as_mut() {
                            let slot = match xml.name.as_str() {
                                "author" => {
                                    in_author = false;
                                    continue;
                                }
                                "message" => {
                                    let text = xml.take_text();
                                    p.too_long = text.is_none();
                                    p.message = text;
                                    continue;
                                }
                                "createdAt" => &mut p.created,
                                "isDeleted" => &mut p.deleted,
                                "isSpam" => &mut p.spam,
                                "isApproved" => &mut p.approved,
                                "ipAddress" => &mut p.ip,
                                _ => continue,
                            };
                            *slot = xml.take_text();
                        }
                    }
                    4 if in_author => {
                        if let Some(p) = post.as_mut() {
                            let slot = match xml.name.as_str() {
                                "name" => &mut p.name,
                                "email" => &mut p.email,
                                "username" => &mut p.username,
                                _ => continue,
                            };
                            *slot = xml.take_text();
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if !saw_root {
        return Err(ctx.malformed(1, "the file holds no Disqus export (<disqus>)"));
    }
    Ok(())
}

fn raw_thread(ctx: &ParseContext, t: &DsqThread) -> Result<RawThread, String> {
    let id = t
        .identifier
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&t.dsq_id);
    let key = ctx
        .thread_key
        .pick(t.link.as_deref(), Some(id))
        .ok_or_else(|| "its thread has neither a link nor an identifier".to_owned())?;
    let state = if yes(&t.deleted) {
        ThreadState::Hidden
    } else if yes(&t.closed) {
        ThreadState::Closed
    } else {
        ThreadState::Open
    };
    Ok(RawThread {
        key,
        title: t.title.clone(),
        state,
        created: t.created.as_deref().and_then(rfc3339_to_ms),
    })
}

fn emit(p: Post, threads: &mut HashMap<String, Known>, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let place = Place::Line(p.line);
    let source = (!p.dsq_id.is_empty()).then(|| format!("disqus:{}", p.dsq_id));
    let skip = |reason: String| Item::Skip {
        place: place.clone(),
        source: source.clone(),
        reason,
    };
    if source.is_none() {
        return sink(skip("the post has no dsq:id".to_owned()));
    }
    let Some(thread_id) = p.thread.filter(|t| !t.is_empty()) else {
        return sink(skip("the post names no thread".to_owned()));
    };
    let key = match threads.get_mut(&thread_id) {
        None => {
            return sink(skip(format!(
                "its thread dsq:id {thread_id} is not in the export"
            )))
        }
        Some((Err(reason), _)) => return sink(skip(reason.clone())),
        Some((Ok(t), sent)) => {
            if !*sent {
                *sent = true;
                sink(Item::Thread(t.clone()))?;
            }
            t.key.clone()
        }
    };
    if p.too_long {
        return sink(skip("the comment is longer than 4 MB".to_owned()));
    }
    let Some(created) = p.created.as_deref().and_then(rfc3339_to_ms) else {
        return sink(skip("no valid createdAt".to_owned()));
    };
    let status = if yes(&p.spam) {
        Status::Spam
    } else if yes(&p.deleted) {
        Status::Trash
    } else if p.approved.as_deref().map(str::trim) == Some("false") {
        Status::Pending
    } else {
        Status::Published
    };
    let parent = match p.parent.filter(|s| !s.is_empty()) {
        Some(id) => ParentRef::Source(format!("disqus:{id}")),
        None => ParentRef::None,
    };
    let author = p.name.filter(|s| !s.trim().is_empty()).or(p.username);
    sink(Item::Comment(Box::new(RawComment {
        place,
        source,
        keep_id: None,
        thread: key,
        parent,
        status,
        format: None,
        body: p.message.unwrap_or_default(),
        author,
        email: p.email,
        homepage: None,
        ip: p.ip,
        ip_hash: None,
        created,
        modified: None,
    })))
}
