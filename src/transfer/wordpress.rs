//! WordPress WXR exports (Tools → Export), read as a stream.
//!
//! Each `<item>` (a post or page) with comments becomes a thread keyed by
//! its permalink (or path, or post id) and titled by its title; each
//! `<wp:comment>` a comment with its author, e-mail, URL, IP, date, parent
//! and approval status, its text kept as written. Pingbacks and trackbacks
//! are not readers' comments and are skipped. Our own WXR export adds
//! `colloquy:` elements (thread key, format, source, exact times), which
//! make the import give back exactly what was exported.

use crate::comment::{Status, ThreadState};

use super::xml::{Step, XmlStream};
use super::{
    rfc3339_to_ms, sql_datetime_to_ms, ImportError, Item, ParentRef, ParseContext, Place,
    RawComment, RawThread, Sink, Stop,
};

/// The post being read.
#[derive(Debug, Default)]
struct Post {
    depth: usize,
    title: Option<String>,
    link: Option<String>,
    post_id: Option<String>,
    date_gmt: Option<String>,
    comment_status: Option<String>,
    thread: Option<String>,
    state: Option<String>,
    created: Option<String>,
    /// The thread key, once its thread has been sent.
    sent: Option<Result<String, String>>,
}

/// The comment being read.
#[derive(Debug, Default)]
struct WpComment {
    depth: usize,
    line: u64,
    id: Option<String>,
    author: Option<String>,
    email: Option<String>,
    url: Option<String>,
    ip: Option<String>,
    date: Option<String>,
    date_gmt: Option<String>,
    content: Option<String>,
    content_too_long: bool,
    approved: Option<String>,
    kind: Option<String>,
    parent: Option<String>,
    format: Option<String>,
    source: Option<String>,
    ip_hash: Option<String>,
    created: Option<String>,
    modified: Option<String>,
}

impl WpComment {
    fn field(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "wp:comment_id" => &mut self.id,
            "wp:comment_author" => &mut self.author,
            "wp:comment_author_email" => &mut self.email,
            "wp:comment_author_url" => &mut self.url,
            "wp:comment_author_IP" => &mut self.ip,
            "wp:comment_date" => &mut self.date,
            "wp:comment_date_gmt" => &mut self.date_gmt,
            "wp:comment_content" => &mut self.content,
            "wp:comment_approved" => &mut self.approved,
            "wp:comment_type" => &mut self.kind,
            "wp:comment_parent" => &mut self.parent,
            "colloquy:format" => &mut self.format,
            "colloquy:source" => &mut self.source,
            "colloquy:ip_hash" => &mut self.ip_hash,
            "colloquy:created" => &mut self.created,
            "colloquy:modified" => &mut self.modified,
            _ => return None,
        })
    }
}

impl Post {
    fn field(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "title" => &mut self.title,
            "link" => &mut self.link,
            "wp:post_id" => &mut self.post_id,
            "wp:post_date_gmt" => &mut self.date_gmt,
            "wp:comment_status" => &mut self.comment_status,
            "colloquy:thread" => &mut self.thread,
            "colloquy:state" => &mut self.state,
            "colloquy:created" => &mut self.created,
            _ => return None,
        })
    }

    /// Sends the post's thread once; its key, or why it has none.
    fn thread(
        &mut self,
        ctx: &ParseContext,
        sink: &mut Sink<'_>,
    ) -> Result<Result<String, String>, Stop> {
        if let Some(sent) = &self.sent {
            return Ok(sent.clone());
        }
        let key = match &self.thread {
            Some(k) => Some(k.clone()),
            None => ctx
                .thread_key
                .pick(self.link.as_deref(), self.post_id.as_deref()),
        };
        let result = match key {
            None => Err("its post has neither a link nor a post id".to_owned()),
            Some(key) => {
                let state = match (self.state.as_deref(), self.comment_status.as_deref()) {
                    (Some(s), _) => ThreadState::parse(s.trim()).unwrap_or(ThreadState::Open),
                    (None, Some(s)) if s.trim() == "closed" => ThreadState::Closed,
                    _ => ThreadState::Open,
                };
                let created = self
                    .created
                    .as_deref()
                    .and_then(rfc3339_to_ms)
                    .or_else(|| self.date_gmt.as_deref().and_then(sql_datetime_to_ms));
                sink(Item::Thread(RawThread {
                    key: key.clone(),
                    title: self.title.clone(),
                    state,
                    created,
                }))?;
                Ok(key)
            }
        };
        self.sent = Some(result.clone());
        Ok(result)
    }
}

/// Reads a WXR file.
pub(super) fn parse(ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let mut xml = XmlStream::open(ctx)?;
    let mut post: Option<Post> = None;
    let mut comment: Option<WpComment> = None;
    let mut saw_rss = false;
    loop {
        match xml.next()? {
            Step::End => break,
            Step::Open => {
                let depth = xml.depth();
                if depth == 1 {
                    if xml.name != "rss" {
                        return Err(ctx.malformed(
                            xml.line(),
                            format!("expected a WordPress export (<rss>), found <{}>", xml.name),
                        ));
                    }
                    saw_rss = true;
                } else if xml.name == "item" && post.is_none() {
                    post = Some(Post {
                        depth,
                        ..Post::default()
                    });
                } else if let Some(c) = comment.as_mut() {
                    if depth == c.depth + 1 && c.field(&xml.name).is_some() {
                        xml.collect();
                    }
                } else if let Some(p) = post.as_mut() {
                    if xml.name == "wp:comment" && depth == p.depth + 1 {
                        comment = Some(WpComment {
                            depth,
                            line: xml.line(),
                            ..WpComment::default()
                        });
                    } else if depth == p.depth + 1 && p.field(&xml.name).is_some() {
                        xml.collect();
                    }
                }
            }
            Step::Close => {
                // The depth of the element that just closed.
                let depth = xml.depth() + 1;
                if let Some(c) = comment.as_mut() {
                    if depth == c.depth {
                        let c = comment.take().unwrap_or_default();
                        if let Some(p) = post.as_mut() {
                            emit(ctx, p, c, sink).map_err(|Stop| stopped())?;
                        }
                    } else if depth == c.depth + 1 {
                        let name = xml.name.clone();
                        if c.field(&name).is_some() {
                            let text = xml.take_text();
                            if name == "wp:comment_content" && text.is_none() {
                                c.content_too_long = true;
                            }
                            if let Some(slot) = c.field(&name) {
                                *slot = text;
                            }
                        }
                    }
                } else if let Some(p) = post.as_mut() {
                    if depth == p.depth {
                        if p.thread.is_some() {
                            // A thread of our own export, even without comments.
                            let _key = p.thread(ctx, sink).map_err(|Stop| stopped())?;
                        }
                        post = None;
                    } else if depth == p.depth + 1 {
                        let name = xml.name.clone();
                        if let Some(slot) = p.field(&name) {
                            *slot = xml.take_text();
                        }
                    }
                }
            }
        }
    }
    if !saw_rss {
        return Err(ctx.malformed(1, "the file holds no WordPress export (<rss>)"));
    }
    Ok(())
}

/// The parse was stopped because the import failed elsewhere.
pub(super) fn stopped() -> ImportError {
    ImportError::Service(crate::error::Error::internal(
        "the import stopped".to_owned(),
    ))
}

fn emit(
    ctx: &ParseContext,
    post: &mut Post,
    c: WpComment,
    sink: &mut Sink<'_>,
) -> Result<(), Stop> {
    let place = Place::Line(c.line);
    let id = c.id.as_deref().map(str::trim).unwrap_or("");
    let native = c.format.is_some();
    let source = if native {
        c.source.clone().filter(|s| !s.trim().is_empty())
    } else if id.is_empty() {
        None
    } else {
        Some(format!("wordpress:{id}"))
    };
    let skip = |reason: String| Item::Skip {
        place: place.clone(),
        source: source.clone(),
        reason,
    };
    if id.is_empty() {
        return sink(skip("the comment has no wp:comment_id".to_owned()));
    }
    match c.kind.as_deref().map(str::trim).unwrap_or("") {
        "" | "comment" | "review" => {}
        "pingback" | "trackback" => {
            return sink(skip(format!(
                "a {}, not a reader's comment",
                c.kind.as_deref().unwrap_or("").trim()
            )))
        }
        other => {
            return sink(skip(format!(
                "comment type `{other}` is not a reader's comment"
            )))
        }
    }
    let status = match c.approved.as_deref().map(str::trim).unwrap_or("1") {
        "1" | "approve" | "approved" => Status::Published,
        "0" | "hold" => Status::Pending,
        "spam" => Status::Spam,
        "trash" | "post-trashed" => Status::Trash,
        other => {
            return sink(skip(format!(
                "approval status `{other}` is not one of 1, 0, spam, trash"
            )))
        }
    };
    if c.content_too_long {
        return sink(skip("the comment is longer than 4 MB".to_owned()));
    }
    let created = c
        .created
        .as_deref()
        .and_then(rfc3339_to_ms)
        .or_else(|| c.date_gmt.as_deref().and_then(sql_datetime_to_ms))
        .or_else(|| c.date.as_deref().and_then(sql_datetime_to_ms));
    let Some(created) = created else {
        return sink(skip(
            "no valid wp:comment_date_gmt or wp:comment_date".to_owned(),
        ));
    };
    let keep_id = if native {
        match id.parse::<i64>() {
            Ok(n) if n > 0 && n < (1 << 53) => Some(n),
            _ => return sink(skip(format!("comment id `{id}` is not a positive number"))),
        }
    } else {
        None
    };
    let parent = match c.parent.as_deref().map(str::trim).unwrap_or("0") {
        "" | "0" => ParentRef::None,
        p if native => match p.parse::<i64>() {
            Ok(n) if n > 0 => ParentRef::Id(n),
            _ => return sink(skip(format!("parent `{p}` is not a comment id"))),
        },
        p => ParentRef::Source(format!("wordpress:{p}")),
    };
    let thread = match post.thread(ctx, sink)? {
        Ok(k) => k,
        Err(reason) => return sink(skip(reason)),
    };
    sink(Item::Comment(Box::new(RawComment {
        place,
        source,
        keep_id,
        thread,
        parent,
        status,
        format: c.format.map(|f| f.trim().to_owned()),
        body: c.content.unwrap_or_default(),
        author: c.author,
        email: c.email,
        homepage: c.url,
        ip: c.ip,
        ip_hash: c.ip_hash,
        created,
        modified: c.modified.as_deref().and_then(rfc3339_to_ms),
    })))
}
