//! A thin streaming layer over quick-xml for the XML exports: element
//! names, attributes, text with CDATA and entities resolved, line numbers,
//! and errors that name the file and line. Memory stays bounded: text is
//! collected only when a parser asks for it, and only up to a cap.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use quick_xml::events::Event;

use super::{ImportError, ParseContext};

/// Text collected for one element is cut here (far above any comment
/// limit, so an over-long comment is still recognised and skipped).
const MAX_TEXT_BYTES: usize = 4 << 20;

/// Deepest element nesting accepted (exports nest a handful of levels).
const MAX_DEPTH: usize = 256;

/// A buffered reader that counts the lines it has handed out.
struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The buffer is the one just returned by `fill_buf`: asking again
        // reads nothing.
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            self.newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        }
        self.inner.consume(amt);
    }
}

/// What [`XmlStream::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// An element opened; its name is [`XmlStream::name`].
    Open,
    /// An element closed; its name is [`XmlStream::name`].
    Close,
    /// The document ended.
    End,
}

/// The stream.
pub(super) struct XmlStream<'c> {
    ctx: &'c ParseContext,
    reader: quick_xml::Reader<LineCounter<BufReader<File>>>,
    buf: Vec<u8>,
    /// Qualified name of the element just opened or closed.
    pub(super) name: String,
    /// Attributes of the element just opened.
    attrs: Vec<(String, String)>,
    /// Open elements, with the line each opened on.
    stack: Vec<(String, u64)>,
    /// Text being collected.
    text: Collector,
    /// An element written `<a/>` closes right after it opens.
    close_next: bool,
}

impl<'c> XmlStream<'c> {
    /// Opens the file.
    pub(super) fn open(ctx: &'c ParseContext) -> Result<XmlStream<'c>, ImportError> {
        let file = File::open(&ctx.path).map_err(|e| ctx.unreadable(e))?;
        let counter = LineCounter {
            inner: BufReader::with_capacity(1 << 16, file),
            newlines: 0,
        };
        let mut reader = quick_xml::Reader::from_reader(counter);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Ok(XmlStream {
            ctx,
            reader,
            buf: Vec::with_capacity(1 << 12),
            name: String::new(),
            attrs: Vec::new(),
            stack: Vec::new(),
            text: Collector::default(),
            close_next: false,
        })
    }

    /// The line the reader has reached.
    pub(super) fn line(&self) -> u64 {
        self.reader.get_ref().newlines + 1
    }

    /// How deep the element just opened sits (the root is 1).
    pub(super) fn depth(&self) -> usize {
        self.stack.len()
    }

    /// An attribute of the element just opened.
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Starts collecting the text of the element just opened.
    pub(super) fn collect(&mut self) {
        self.text.collecting = true;
        self.text.text.clear();
        self.text.truncated = false;
    }

    /// The text collected since [`collect`](Self::collect); stops
    /// collecting. `None` if it was longer than the cap.
    pub(super) fn take_text(&mut self) -> Option<String> {
        self.text.collecting = false;
        if self.text.truncated {
            self.text.text.clear();
            return None;
        }
        Some(std::mem::take(&mut self.text.text))
    }

    /// The next element boundary; text between boundaries is collected
    /// when asked for.
    pub(super) fn next(&mut self) -> Result<Step, ImportError> {
        if self.close_next {
            self.close_next = false;
            if let Some((name, _)) = self.stack.pop() {
                self.name = name;
            }
            return Ok(Step::Close);
        }
        let ctx = self.ctx;
        let not_utf8 = super::NOT_UTF8;
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => {
                    let at = self.reader.error_position();
                    let message = match &e {
                        quick_xml::Error::Io(io) => return Err(ctx.unreadable(io)),
                        quick_xml::Error::Encoding(_) => not_utf8.to_owned(),
                        other => format!("malformed XML: {other}"),
                    };
                    return Err(error_at(ctx, at, message));
                }
            };
            let at = self.reader.buffer_position();
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.attrs.clear();
                    for a in e.attributes() {
                        let bad = |err: &dyn std::fmt::Display| {
                            error_at(ctx, at, format!("malformed attribute in <{name}>: {err}"))
                        };
                        let a = a.map_err(|err| bad(&err))?;
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| bad(&err))?;
                        self.attrs.push((key, value.into_owned()));
                    }
                    let line = self.reader.get_ref().newlines + 1;
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(ctx.malformed(
                            line,
                            format!("elements nested deeper than {MAX_DEPTH}; no export does that"),
                        ));
                    }
                    self.stack.push((name.clone(), line));
                    self.name = name;
                    self.close_next = empty;
                    return Ok(Step::Open);
                }
                Event::End(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.stack.pop();
                    self.name = name;
                    return Ok(Step::Close);
                }
                Event::Text(t) => {
                    if self.text.collecting {
                        let s = t.xml10_content().map_err(|_| error_at(ctx, at, not_utf8))?;
                        self.text.push(&s);
                    }
                }
                Event::CData(t) => {
                    if self.text.collecting {
                        let s = t.xml10_content().map_err(|_| error_at(ctx, at, not_utf8))?;
                        self.text.push(&s);
                    }
                }
                Event::GeneralRef(r) => {
                    if !self.text.collecting {
                        continue;
                    }
                    if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => {
                                let mut b = [0u8; 4];
                                self.text.push(c.encode_utf8(&mut b));
                            }
                            _ => {
                                return Err(error_at(
                                    ctx,
                                    at,
                                    "a character reference names no character",
                                ))
                            }
                        }
                    } else {
                        let name = r.decode().map_err(|_| error_at(ctx, at, not_utf8))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => self.text.push(s),
                            // An HTML entity such as `&nbsp;` is not XML, but
                            // exports carry them; keep it as written, for the
                            // HTML it stands in to read.
                            None => self.text.push(&format!("&{name};")),
                        }
                    }
                }
                Event::Eof => {
                    if let Some((name, line)) = self.stack.last() {
                        return Err(ctx.malformed(
                            *line,
                            format!("the file ends before <{name}> (opened here) is closed"),
                        ));
                    }
                    return Ok(Step::End);
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }
}

/// Text collected for the element a parser asked about.
#[derive(Debug, Default)]
struct Collector {
    collecting: bool,
    text: String,
    truncated: bool,
}

impl Collector {
    fn push(&mut self, s: &str) {
        if !self.collecting || self.truncated {
            return;
        }
        if self.text.len() + s.len() > MAX_TEXT_BYTES {
            self.truncated = true;
            return;
        }
        self.text.push_str(s);
    }
}

/// A malformed-file error at a byte offset.
fn error_at(ctx: &ParseContext, offset: u64, message: impl Into<String>) -> ImportError {
    ctx.malformed(line_at(&ctx.path, offset), message)
}

/// The line of byte `offset` of a file (1-based), found by reading it
/// again; used only for errors.
pub(super) fn line_at(path: &std::path::Path, offset: u64) -> u64 {
    let Ok(file) = File::open(path) else { return 1 };
    let mut reader = BufReader::new(file).take(offset);
    let mut lines = 1u64;
    let mut buf = [0u8; 1 << 16];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => return lines,
            Ok(n) => lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
        }
    }
}

/// Writes text for XML: `&`, `<`, `>` and quotes escaped; characters XML
/// 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) left out.
pub(crate) fn escape_text(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| xml_char(c)).collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

/// A CDATA section holding `s` exactly (but for characters XML cannot
/// carry): a `]]>` inside is split across two sections.
pub(crate) fn cdata(s: &str) -> String {
    let clean: String = s.chars().filter(|&c| xml_char(c)).collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_survives_its_own_terminator() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(escape_text("a<b&\u{1}c"), "a&lt;b&amp;c");
    }
}
