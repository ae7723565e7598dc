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

mod drupal;
pub(crate) use drupal::{Drupal, DrupalAttribute, DrupalAttributes};

#[cfg(test)]
mod tests;
