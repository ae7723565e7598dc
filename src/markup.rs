//! Reading markup: the one lexer the filters and the safety net share.
//!
//! [`read`] reads what a `<` starts — a start or end tag with its
//! attributes, a comment, a bogus comment (`<!…>`, `<?…>`, `</…>`) — by the
//! rules of the HTML tokenizer browsers use, and says where it ends. It never
//! looks back: a construct without an end runs to the end of the input, so a
//! caller that resumes after each construct reads its input once. The safety
//! net, the HTML corrector, the `url` filter's walk over tags, `autop`'s
//! protected regions and the `html5` parser's depth guard read markup this
//! way.
//!
//! The lenient `html` filter reads as Drupal 7 does, and Drupal's reading
//! looks back by design: a `<` that turns out not to start real markup is
//! text, and reading goes on right after it, inside what was just read.
//! [`Drupal`] holds that reading, and remembers what each look found — the
//! next `>`, where a walk over quoted values ends, where the attributes stop
//! being plausible — so that no byte is looked at more than a few times,
//! whatever the input.
//!
//! [`Next`] is the memory for the simplest case: the next occurrence of a
//! needle, asked for at positions that only move forward. It answers "no `>`
//! after here" once and remembers it.
//!
//! In test builds every scan here counts the bytes it looks at
//! ([`work`]); a test renders floods of every construct at two sizes and
//! checks that the count grows in proportion to the input.

use std::collections::HashMap;
use std::ops::Range;

/// Bytes examined by the scans of this module, counted in test builds only.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::Cell;

    thread_local! {
        static BYTES: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn add(n: usize) {
        BYTES.with(|b| b.set(b.get() + n as u64));
    }

    /// The count so far, reset to zero.
    pub(crate) fn take() -> u64 {
        BYTES.with(|b| b.replace(0))
    }
}

/// Records that a scan looked at `n` bytes (a no-op outside tests).
#[inline(always)]
pub(crate) fn examined(n: usize) {
    #[cfg(test)]
    work::add(n);
    #[cfg(not(test))]
    let _ = n;
}

/// HTML's white space (with `\r`, which normalized input no longer holds).
pub(crate) fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

/// The first `byte` at or after `from`.
pub(crate) fn find_byte(hay: &[u8], from: usize, byte: u8) -> Option<usize> {
    let found = memchr::memchr(byte, hay.get(from..)?).map(|i| from + i);
    examined(found.map_or(hay.len(), |i| i + 1) - from);
    found
}

/// The first `needle` starting at or after `from`.
pub(crate) fn find_seq(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let found = memchr::memmem::find(hay.get(from..)?, needle).map(|i| from + i);
    examined(found.map_or(hay.len(), |i| i + needle.len()) - from);
    found
}

/// Where the run of bytes matching `pred` that starts at `from` ends.
pub(crate) fn run_end(hay: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    let len = hay
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| pred(b)).count());
    examined(len + 1);
    from + len
}

/// Where the run of characters matching `pred` that starts at `from` ends.
pub(crate) fn char_run_end(text: &str, from: usize, pred: impl Fn(char) -> bool) -> usize {
    let rest = &text[from..];
    let len = rest.find(|c: char| !pred(c)).unwrap_or(rest.len());
    examined(len + 1);
    from + len
}

/// Remembers one answer to "where does the next match start, at or after
/// here?": the answer for every position in `asked..=found`. A question
/// behind `asked` only scans the stretch up to `asked`; one past `found`
/// scans on from there. Callers that move forward (and step back a little
/// now and then) thus scan each byte about once, and "none after here" is
/// asked once.
#[derive(Debug, Clone, Copy, Default)]
struct Known(Option<(usize, Option<usize>)>);

impl Known {
    /// `scan(from, to)`: the first match starting in `from..to` (`to` may
    /// be past the end).
    fn answer(
        &mut self,
        pos: usize,
        scan: impl Fn(usize, usize) -> Option<usize>,
    ) -> Option<usize> {
        let found = match self.0 {
            Some((asked, found)) if asked <= pos => {
                if found.is_none_or(|f| pos <= f) {
                    return found;
                }
                scan(pos, usize::MAX)
            }
            Some((asked, found)) => scan(pos, asked).or(found),
            None => scan(pos, usize::MAX),
        };
        self.0 = Some((pos, found));
        found
    }
}

/// The next occurrence of a fixed needle (see [`Known`]).
#[derive(Debug, Clone)]
pub(crate) struct Next {
    needle: &'static [u8],
    known: Known,
}

impl Next {
    pub(crate) fn new(needle: &'static [u8]) -> Next {
        Next {
            needle,
            known: Known::default(),
        }
    }

    /// Where the needle next starts at or after `pos`.
    pub(crate) fn at_or_after(&mut self, hay: &[u8], pos: usize) -> Option<usize> {
        let needle = self.needle;
        self.known.answer(pos, |from, to| {
            let end = to.saturating_add(needle.len() - 1).min(hay.len());
            if needle.len() == 1 {
                find_byte(&hay[..end], from, needle[0])
            } else {
                find_seq(&hay[..end], from, needle)
            }
        })
    }
}

/// What a `<` starts, as a browser's tokenizer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Markup<'a> {
    /// Nothing: the `<` is text.
    Text,
    /// A start or end tag.
    Tag(Tag<'a>),
    /// `<!-- … -->`.
    Comment,
    /// `<!…>`, `<?…>`, `</…>` not followed by a letter, `</>`: browsers
    /// read these as comments (or as nothing) and show none of it.
    Bogus,
}

/// One construct read at a `<`: what it is and where it ends (the index
/// just past it; the end of the input when it is not closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Read<'a> {
    pub(crate) markup: Markup<'a>,
    pub(crate) end: usize,
}

/// A tag as the tokenizer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    /// The name as written (compare it with `eq_ignore_ascii_case`).
    pub(crate) name: &'a str,
    /// `</name>`.
    pub(crate) is_end: bool,
    /// Written with `/>`.
    pub(crate) self_closing: bool,
    /// False when the input ends inside the tag; browsers drop such a tag.
    pub(crate) terminated: bool,
    /// How many attributes it has (duplicates included).
    pub(crate) attribute_count: usize,
    /// The input, and where in it the attributes start (right after the
    /// name).
    src: &'a str,
    attributes_at: usize,
}

/// One attribute as written: its name, and its value (`None` without `=`).
/// Neither is decoded or lowercased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attribute<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: Option<&'a str>,
    /// Where in the input the attribute (with any space after it) ends.
    pub(crate) end: usize,
}

impl<'a> Tag<'a> {
    /// The attributes in the order written (duplicates included).
    pub(crate) fn attributes(&self) -> Attributes<'a> {
        Attributes {
            src: self.src,
            at: self.attributes_at,
        }
    }

    /// Where the attributes start: right after the name.
    pub(crate) fn attributes_at(&self) -> usize {
        self.attributes_at
    }

    /// Is this tag's name `lower` (ASCII case-insensitively)?
    pub(crate) fn is(&self, lower: &str) -> bool {
        self.name.eq_ignore_ascii_case(lower)
    }
}

/// The attributes of a [`Tag`].
#[derive(Debug, Clone)]
pub(crate) struct Attributes<'a> {
    src: &'a str,
    at: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        match attribute_step(self.src.as_bytes(), self.at) {
            Step::Attribute { name, value, next } => {
                self.at = next;
                Some(Attribute {
                    name: &self.src[name],
                    value: value.map(|v| &self.src[v]),
                    end: next,
                })
            }
            Step::End { .. } | Step::Eof => {
                self.at = self.src.len();
                None
            }
        }
    }
}

/// Reads the construct the `<` at `at` starts.
pub(crate) fn read(src: &str, at: usize) -> Read<'_> {
    let b = src.as_bytes();
    debug_assert_eq!(b.get(at), Some(&b'<'));
    let bogus = |from: usize| Read {
        markup: Markup::Bogus,
        end: find_byte(b, from, b'>').map_or(b.len(), |gt| gt + 1),
    };
    match b.get(at + 1) {
        Some(b'!') if b[at..].starts_with(b"<!--") => Read {
            markup: Markup::Comment,
            end: comment_end(b, at),
        },
        Some(b'!') => bogus(at + 2),
        Some(b'?') => bogus(at + 1),
        Some(b'/') => match b.get(at + 2) {
            Some(c) if c.is_ascii_alphabetic() => read_tag(src, at + 2, true),
            Some(b'>') => Read {
                markup: Markup::Bogus,
                end: at + 3,
            },
            Some(_) => bogus(at + 2),
            None => Read {
                markup: Markup::Text,
                end: at + 1,
            },
        },
        Some(c) if c.is_ascii_alphabetic() => read_tag(src, at + 1, false),
        _ => Read {
            markup: Markup::Text,
            end: at + 1,
        },
    }
}

/// Where the comment opened by `<!--` at `at` ends: after the first `-->`
/// (which may share the opening dashes: `<!-->`, `<!--->`) or `--!>`, or
/// at the end of the input.
fn comment_end(b: &[u8], at: usize) -> usize {
    let arrow = find_seq(b, at + 2, b"-->").map(|i| i + 3);
    let bang = find_seq(b, at + 4, b"--!>").map(|i| i + 4);
    match (arrow, bang) {
        (Some(a), Some(c)) => a.min(c),
        (a, c) => a.or(c).unwrap_or(b.len()),
    }
}

fn read_tag(src: &str, name_start: usize, is_end: bool) -> Read<'_> {
    let b = src.as_bytes();
    let name_end = run_end(b, name_start, |c| !is_space(c) && c != b'/' && c != b'>');
    let mut at = name_end;
    let mut attribute_count = 0;
    let (end, self_closing, terminated) = loop {
        match attribute_step(b, at) {
            Step::Attribute { next, .. } => {
                attribute_count += 1;
                at = next;
            }
            Step::End { end, self_closing } => break (end, self_closing, true),
            Step::Eof => break (b.len(), false, false),
        }
    };
    Read {
        markup: Markup::Tag(Tag {
            name: &src[name_start..name_end],
            is_end,
            self_closing,
            terminated,
            attribute_count,
            src,
            attributes_at: name_end,
        }),
        end,
    }
}

/// One step of the tokenizer's attribute states from `at`.
enum Step {
    Attribute {
        name: Range<usize>,
        value: Option<Range<usize>>,
        next: usize,
    },
    /// `>` or `/>`; `end` is just past it.
    End { end: usize, self_closing: bool },
    /// The input ended inside the tag.
    Eof,
}

fn attribute_step(b: &[u8], mut at: usize) -> Step {
    loop {
        match b.get(at) {
            None => return Step::Eof,
            Some(&c) if is_space(c) => at += 1,
            Some(b'/') if b.get(at + 1) == Some(&b'>') => {
                return Step::End {
                    end: at + 2,
                    self_closing: true,
                }
            }
            Some(b'/') => at += 1,
            Some(b'>') => {
                return Step::End {
                    end: at + 1,
                    self_closing: false,
                }
            }
            Some(_) => break,
        }
        examined(1);
    }
    // A name: its first character may be `=` (a parse error browsers accept).
    let name_start = at;
    let name_end = run_end(b, at + 1, |c| {
        !is_space(c) && c != b'/' && c != b'>' && c != b'='
    });
    let after_name = run_end(b, name_end, is_space);
    if b.get(after_name) != Some(&b'=') {
        return Step::Attribute {
            name: name_start..name_end,
            value: None,
            next: after_name,
        };
    }
    let value_start = run_end(b, after_name + 1, is_space);
    match b.get(value_start) {
        None => Step::Eof,
        Some(&q @ (b'"' | b'\'')) => match find_byte(b, value_start + 1, q) {
            Some(close) => Step::Attribute {
                name: name_start..name_end,
                value: Some(value_start + 1..close),
                next: close + 1,
            },
            None => Step::Eof,
        },
        Some(b'>') => Step::Attribute {
            name: name_start..name_end,
            value: Some(value_start..value_start),
            next: value_start,
        },
        Some(_) => {
            let end = run_end(b, value_start, |c| !is_space(c) && c != b'>');
            if end == b.len() {
                return Step::Eof;
            }
            Step::Attribute {
                name: name_start..name_end,
                value: Some(value_start..end),
                next: end,
            }
        }
    }
}

/// Drupal 7's reading of tags, for the lenient `html` filter: where a tag
/// that starts at a `<` ends, and whether its attributes look like real
/// markup. Each answer is remembered, so that the many overlapping looks
/// that text full of `<` causes cost no more than one.
///
/// Positions asked about must not decrease from one tag to the next (the
/// filter reads left to right); remembered answers behind the current tag
/// are dropped now and then.
#[derive(Debug)]
pub(crate) struct Drupal<'a> {
    text: &'a str,
    src: &'a [u8],
    gt: Next,
    lt: Next,
    opening_quote: NextOpeningQuote,
    /// For an opening quote: where the walk that skips its value ends
    /// (`None`: it finds no `>` outside quotes).
    walks: Memo,
    /// For the start of an attribute: where the first implausible
    /// attribute from there starts (`None`: there is none).
    implausible: Memo,
    /// For a `>`: where the last non-space character before it is.
    before_gt: Memo,
}

/// Answers remembered by position, forgotten once reading has moved past.
#[derive(Debug, Default)]
struct Memo {
    map: HashMap<usize, Option<usize>>,
    /// Size after the last clean-up: the next one comes when it doubles.
    kept: usize,
}

impl Memo {
    fn get(&self, at: usize) -> Option<Option<usize>> {
        self.map.get(&at).copied()
    }

    fn insert(&mut self, at: usize, answer: Option<usize>, reading_at: usize) {
        if self.map.len() > 2 * self.kept + 64 {
            self.map.retain(|&k, _| k >= reading_at);
            self.kept = self.map.len();
        }
        self.map.insert(at, answer);
    }
}

/// The next quote that opens an attribute value in Drupal's walk over a tag:
/// a `"` or `'` whose previous non-space byte is `=` (see [`Known`]).
#[derive(Debug, Default)]
struct NextOpeningQuote {
    known: Known,
}

fn opens_value(b: &[u8], q: usize) -> bool {
    let before = &b[..q];
    let last = before.iter().rposition(|&c| !is_space(c));
    examined(q - last.map_or(0, |i| i) + 1);
    last.is_some_and(|i| b[i] == b'=')
}

/// The first opening quote in `from..to`.
fn opening_quote_before(b: &[u8], from: usize, to: usize) -> Option<usize> {
    let to = to.min(b.len());
    let mut at = from;
    loop {
        let Some(q) = memchr::memchr2(b'"', b'\'', b.get(at..to)?).map(|i| at + i) else {
            examined(to.saturating_sub(at));
            return None;
        };
        examined(q + 1 - at);
        if opens_value(b, q) {
            return Some(q);
        }
        at = q + 1;
    }
}

/// Spaces before a `>` that are read each time rather than remembered.
const SHORT_SPACE_RUN: usize = 64;

/// What Drupal's walk over a tag meets next: a `>` or an opening quote.
enum Event {
    Gt(usize),
    Quote(usize),
}

fn next_event(b: &[u8], from: usize) -> Option<Event> {
    let mut at = from;
    loop {
        let Some(i) = memchr::memchr3(b'>', b'"', b'\'', b.get(at..)?).map(|i| at + i) else {
            examined(b.len() - at);
            return None;
        };
        examined(i + 1 - at);
        if b[i] == b'>' {
            return Some(Event::Gt(i));
        }
        if opens_value(b, i) {
            return Some(Event::Quote(i));
        }
        at = i + 1;
    }
}

impl NextOpeningQuote {
    fn at_or_after(&mut self, b: &[u8], pos: usize) -> Option<usize> {
        self.known
            .answer(pos, |from, to| opening_quote_before(b, from, to))
    }
}

/// Can an attribute name start with `c` in Drupal's scanner?
fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'-'
}

/// An attribute as Drupal's scanner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DrupalAttribute<'a> {
    /// Where it starts.
    pub(crate) start: usize,
    /// The name as written; empty for junk (a piece that starts with
    /// neither a letter nor `_` or `-`).
    pub(crate) name: &'a str,
    /// The value: `Some("")` for a bare name, `None` when malformed (junk,
    /// `=` with nothing after it, a quote never closed).
    pub(crate) value: Option<&'a str>,
    /// A name without `=`, or junk.
    pub(crate) bare: bool,
}

/// Drupal's attribute scanner over `src[at..end]`, with quoted values
/// allowed to hold anything; malformed pieces are skipped to the next space.
#[derive(Debug, Clone)]
pub(crate) struct DrupalAttributes<'a> {
    src: &'a str,
    at: usize,
    end: usize,
}

impl<'a> DrupalAttributes<'a> {
    pub(crate) fn new(src: &'a str, at: usize, end: usize) -> Self {
        DrupalAttributes { src, at, end }
    }

    /// Moves past spaces; returns where the next piece starts.
    fn skip_separators(&mut self) -> usize {
        let b = &self.src.as_bytes()[..self.end];
        self.at = run_end(b, self.at, is_space);
        self.at
    }

    /// The attribute at `self.at` (after spaces), and where the next one
    /// may start. Drupal reads the attributes after cutting a final `/`
    /// (and the spaces after it) off; elsewhere a `/` is junk.
    fn step(&mut self) -> Option<(DrupalAttribute<'a>, usize)> {
        let at = self.skip_separators();
        let b = &self.src.as_bytes()[..self.end];
        let &c = b.get(at)?;
        if at_attributes_end(b, at) {
            return None;
        }
        if !is_name_start(c) {
            let junk = DrupalAttribute {
                start: at,
                name: "",
                value: None,
                bare: true,
            };
            return Some((junk, junk_end(b, at)));
        }
        let name_end = run_end(b, at, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.')
        });
        let name = &self.src[at..name_end];
        let mut j = run_end(b, name_end, is_space);
        if b.get(j) != Some(&b'=') {
            // A name needs `=`, a space or the end after it; glued to
            // anything else (`title"x"`) it goes with what follows, to the
            // next space.
            let glued = j == name_end && !at_attributes_end(b, j);
            let bare = DrupalAttribute {
                start: at,
                name,
                value: (!glued).then_some(""),
                bare: true,
            };
            return Some((bare, if glued { junk_end(b, j) } else { name_end }));
        }
        j = run_end(b, j + 1, is_space);
        // A value must be followed by a space or the end: `title="a"title="b"`
        // and `title="x"onclick=…` are junk from the value on (Drupal's
        // `"…"(\s+|$)`, `'…'(\s+|$)`, `[^\s"']+(\s+|$)`).
        let ends_value =
            |k: usize| b.get(k).is_none_or(|&c| is_space(c)) || at_attributes_end(b, k);
        let (value, next) = match b.get(j) {
            // `a=/>`: Drupal cuts the `/` off first, and `a=` has no value.
            _ if at_attributes_end(b, j) => (None, j),
            Some(&q @ (b'"' | b'\'')) => match find_byte(b, j + 1, q) {
                Some(close) if ends_value(close + 1) => (Some(&self.src[j + 1..close]), close + 1),
                Some(_) => (None, junk_end(b, j)),
                None => (None, b.len()),
            },
            Some(_) => {
                let v_end = run_end(b, j, |c| !is_space(c) && c != b'"' && c != b'\'');
                if !ends_value(v_end) {
                    (None, junk_end(b, j))
                } else {
                    let v = &self.src[j..v_end];
                    let v = if at_attributes_end(b, v_end) || v_end == b.len() {
                        v.strip_suffix('/').unwrap_or(v)
                    } else {
                        v
                    };
                    (Some(v), v_end)
                }
            }
            None => (None, j),
        };
        let attribute = DrupalAttribute {
            start: at,
            name,
            value,
            bare: false,
        };
        Some((attribute, next))
    }
}

/// Do the attributes end at `at`: the end, a `>` (when reading on past
/// the tag), or Drupal's closing `/` with only spaces after it?
fn at_attributes_end(b: &[u8], at: usize) -> bool {
    match b.get(at) {
        None | Some(b'>') => true,
        Some(b'/') => {
            let after = run_end(b, at + 1, is_space);
            matches!(b.get(after), None | Some(b'>'))
        }
        Some(_) => false,
    }
}

/// Where the junk that starts at `at` ends: quoted strings (to their
/// closing quote or the end) and other non-space characters, to the next
/// space outside quotes — Drupal's `("[^"]*("|$)|'[^']*('|$)|\S)*`.
fn junk_end(b: &[u8], at: usize) -> usize {
    let mut i = at;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' => i = find_byte(b, i + 1, c).map_or(b.len(), |close| close + 1),
            c if is_space(c) => break,
            _ => i += 1,
        }
    }
    examined(i - at + 1);
    i
}

impl<'a> Iterator for DrupalAttributes<'a> {
    type Item = DrupalAttribute<'a>;

    fn next(&mut self) -> Option<DrupalAttribute<'a>> {
        let (attribute, next) = self.step()?;
        self.at = next;
        Some(attribute)
    }
}

impl<'a> Drupal<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Drupal {
            text: src,
            src: src.as_bytes(),
            gt: Next::new(b">"),
            lt: Next::new(b"<"),
            opening_quote: NextOpeningQuote::default(),
            walks: Memo::default(),
            implausible: Memo::default(),
            before_gt: Memo::default(),
        }
    }

    /// The next `>` at or after `pos`.
    pub(crate) fn next_gt(&mut self, pos: usize) -> Option<usize> {
        self.gt.at_or_after(self.src, pos)
    }

    /// Where the tag whose name ends at `from` ends: `(end, ended_with_gt)`.
    /// Quoted attribute values may hold `>`; when a quote is never closed,
    /// the tag ends at the first `>` instead (as Drupal reads it); with no
    /// `>` at all it runs to the end of the input.
    pub(crate) fn extent(&mut self, from: usize) -> (usize, bool) {
        let Some(gt) = self.next_gt(from) else {
            return (self.src.len(), false);
        };
        let end = match self.opening_quote.at_or_after(self.src, from) {
            Some(q) if q < gt => self.walk_from(q, from).unwrap_or(gt),
            _ => gt,
        };
        (end + 1, true)
    }

    /// The walk over a tag from the opening quote `q`: skip each quoted
    /// value, stop at the first `>` outside one. `None` when a quote is
    /// never closed or no such `>` follows.
    fn walk_from(&mut self, q: usize, reading_at: usize) -> Option<usize> {
        let b = self.src;
        // Only a walk inside which a later `<` starts can be asked about
        // again; the others are not worth remembering.
        let remember_from = self.lt.at_or_after(b, reading_at).unwrap_or(b.len());
        let mut pending = Vec::new();
        let mut q = q;
        let answer = loop {
            if let Some(known) = self.walks.get(q) {
                break known;
            }
            if q >= remember_from {
                pending.push(q);
            }
            let Some(close) = find_byte(b, q + 1, b[q]) else {
                break None;
            };
            match next_event(b, close + 1) {
                Some(Event::Gt(gt)) => break Some(gt),
                Some(Event::Quote(next)) => q = next,
                None => break None,
            }
        };
        for q in pending {
            self.walks.insert(q, answer, reading_at);
        }
        answer
    }

    /// Is the last non-space character before the `>` at `gt`, if it is at
    /// or after `from`, a `/`? (Drupal's self-closing tag.)
    pub(crate) fn slash_before(&mut self, from: usize, gt: usize) -> bool {
        let before = &self.text[..gt];
        // Usually the character right before `>` answers; only a long run of
        // spaces (which many tags may end with) is worth remembering.
        let near =
            crate::text::floor_char_boundary(before, before.len().saturating_sub(SHORT_SPACE_RUN));
        let last = match before[near..]
            .char_indices()
            .rev()
            .find(|&(_, c)| !c.is_whitespace())
        {
            // The index of its last byte, as `trim_end` would leave it.
            Some((i, c)) => {
                examined(before.len() - near - i);
                Some(near + i + c.len_utf8() - 1)
            }
            None if near == 0 => None,
            _ => match self.before_gt.get(gt) {
                Some(known) => known,
                None => {
                    let trimmed = before.trim_end();
                    examined(before.len() - trimmed.len() + 1);
                    let last = trimmed.len().checked_sub(1);
                    self.before_gt.insert(gt, last, from);
                    last
                }
            },
        };
        last.is_some_and(|i| i >= from && self.src[i] == b'/')
    }

    /// Where the first attribute from `from` on that `plausible` rejects
    /// starts, reading to the end of the input (the caller compares the
    /// answer with the tag's end: what lies beyond it does not count).
    pub(crate) fn first_implausible(
        &mut self,
        from: usize,
        plausible: impl Fn(&DrupalAttribute<'_>) -> bool,
    ) -> Option<usize> {
        let text = self.text;
        let remember_from = self.lt.at_or_after(self.src, from).unwrap_or(text.len());
        let mut scanner = DrupalAttributes::new(text, from, text.len());
        let mut pending = Vec::new();
        let answer = loop {
            let start = scanner.skip_separators();
            if start >= text.len() {
                break None;
            }
            if let Some(known) = self.implausible.get(start) {
                break known;
            }
            // Junk is never plausible: no need to read how far it goes (nor
            // to remember an answer this quick to find).
            if at_attributes_end(self.src, start) {
                break None;
            }
            if !is_name_start(self.src[start]) {
                break Some(start);
            }
            if start >= remember_from {
                pending.push(start);
            }
            let Some((attribute, next)) = scanner.step() else {
                break None;
            };
            if !plausible(&attribute) {
                break Some(attribute.start);
            }
            scanner.at = next;
        };
        for at in pending {
            self.implausible.insert(at, answer, from);
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(src: &str) -> (Tag<'_>, usize) {
        match read(src, 0) {
            Read {
                markup: Markup::Tag(t),
                end,
            } => (t, end),
            other => panic!("{src:?} read as {other:?}"),
        }
    }

    fn attrs<'a>(t: &Tag<'a>) -> Vec<(&'a str, Option<&'a str>)> {
        t.attributes().map(|a| (a.name, a.value)).collect()
    }

    #[test]
    fn tags_read_as_a_browser_reads_them() {
        let (t, end) = tag("<em title=\"a > b\" lang=fr>x");
        assert_eq!(
            (t.name, t.is_end, t.self_closing, end),
            ("em", false, false, 26)
        );
        assert_eq!(attrs(&t), [("title", Some("a > b")), ("lang", Some("fr"))]);
        let (t, end) = tag("<br/>");
        assert_eq!((t.name, t.self_closing, end), ("br", true, 5));
        let (t, _) = tag("</P >");
        assert!(t.is_end && t.is("p"));
        let (t, _) = tag("<a =x b c=\"1\"d='2'/ e>");
        assert_eq!(
            attrs(&t),
            [
                ("=x", None),
                ("b", None),
                ("c", Some("1")),
                ("d", Some("2")),
                ("e", None)
            ]
        );
        let (t, _) = tag("<a b=>");
        assert_eq!(attrs(&t), [("b", Some(""))]);
    }

    #[test]
    fn a_tag_the_input_ends_in_runs_to_the_end() {
        for s in ["<b title=\"x>", "<b x", "<b x=y", "<b x=", "<b"] {
            let (t, end) = tag(s);
            assert!(!t.terminated, "{s}");
            assert_eq!(end, s.len(), "{s}");
        }
    }

    #[test]
    fn comments_and_bogus_comments_end_where_browsers_end_them() {
        fn end(s: &str) -> (Markup<'_>, usize) {
            let r = read(s, 0);
            (r.markup, r.end)
        }
        assert_eq!(end("<!-->x"), (Markup::Comment, 5));
        assert_eq!(end("<!--->x"), (Markup::Comment, 6));
        assert_eq!(end("<!-- a -- b --!>x"), (Markup::Comment, 16));
        assert_eq!(end("<!--!>-->"), (Markup::Comment, 9));
        assert_eq!(end("<!-- open"), (Markup::Comment, 9));
        assert_eq!(end("<!DOCTYPE html>x"), (Markup::Bogus, 15));
        assert_eq!(end("<?php x ?>y"), (Markup::Bogus, 10));
        assert_eq!(end("</ x>y"), (Markup::Bogus, 5));
        assert_eq!(end("</>y"), (Markup::Bogus, 3));
        assert_eq!(end("</"), (Markup::Text, 1));
        assert_eq!(end("< b>"), (Markup::Text, 1));
        assert_eq!(end("<3"), (Markup::Text, 1));
    }

    #[test]
    fn next_remembers_that_nothing_follows() {
        let hay = b"<<<<<<<<";
        let mut next = Next::new(b">");
        work::take();
        for i in 0..hay.len() {
            assert_eq!(next.at_or_after(hay, i), None);
        }
        assert!(work::take() <= hay.len() as u64 + 1);
    }

    #[test]
    fn a_slash_before_long_spaces_is_found_and_remembered() {
        let spaces = " ".repeat(3 * SHORT_SPACE_RUN);
        let text = format!("<y/{spaces}><z{spaces}>");
        let mut d = Drupal::new(&text);
        let first_gt = 3 + spaces.len();
        assert!(d.slash_before(2, first_gt));
        assert!(d.slash_before(2, first_gt), "remembered answer");
        assert!(!d.slash_before(4, first_gt), "the slash is before `from`");
        assert!(!d.slash_before(first_gt + 3, text.len() - 1));
    }

    #[test]
    fn drupal_extents_skip_quoted_values_and_fall_back_to_the_first_gt() {
        let mut d = Drupal::new("<y a=\">\" b>z");
        assert_eq!(d.extent(2), (11, true));
        let mut d = Drupal::new("<y a=\"> b");
        assert_eq!(d.extent(2), (7, true));
        let mut d = Drupal::new("<y a b");
        assert_eq!(d.extent(2), (6, false));
    }
}
