//! Reading markup as Drupal 7's `filter_xss` does (the lenient parser of
//! the bundled Filtered HTML format), each tag's end found once however
//! the candidates overlap.

use super::*;

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
pub(super) const SHORT_SPACE_RUN: usize = 64;

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
        if no_attribute_at(b, at) {
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
            let glued = j == name_end && !no_attribute_at(b, j);
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
        let ends_value = |k: usize| b.get(k).is_none_or(|&c| is_space(c)) || no_attribute_at(b, k);
        let (value, next) = match b.get(j) {
            // `a=/>`: Drupal cuts the `/` off first, and `a=` has no value.
            // A `>` here is not the tag's end (that is past `end`): it
            // starts a value, as in Drupal's `[^\s"']+`.
            _ if b.get(j).is_none_or(|&c| c != b'>') && at_attributes_end(b, j) => (None, j),
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
                    // The last value (only spaces after it, to the end or
                    // `>`) loses the final `/` Drupal cut off first.
                    let last = matches!(b.get(run_end(b, v_end, is_space)), None | Some(b'>'));
                    let v = if last {
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

/// Where an attribute could start: do the attributes end at `at`? As
/// [`at_attributes_end`], and also at a `/` just before Drupal's closing
/// one (`<b//`, `<b / />`): Drupal cut that one off first, and then reads
/// the `/` before it as the end.
fn no_attribute_at(b: &[u8], at: usize) -> bool {
    if at_attributes_end(b, at) {
        return true;
    }
    b.get(at) == Some(&b'/') && {
        let after = run_end(b, at + 1, is_space);
        b.get(after) == Some(&b'/') && at_attributes_end(b, after)
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
            if no_attribute_at(self.src, start) {
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
