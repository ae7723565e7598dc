//! `autop`: line and paragraph breaking with Drupal 7's rules.
//!
//! Blank lines make paragraphs (`<p>…</p>`), single newlines make `<br />`,
//! block-level tags are left to stand on their own. Each step below is one
//! rule of Drupal's `_filter_autop`; the comments say which. Two rules use
//! look-around, which the `regex` crate does not have, so they are small
//! hand-written scans with the same leftmost-match semantics.
//!
//! One deliberate difference: Drupal turns `<br />` + spaces + newline into
//! two line breaks; here the spaces are dropped and the break is kept once.

use std::sync::LazyLock;

use regex::Regex;

use crate::markup::{self, Next};

/// Block-level tag names, matched as prefixes and in lower case, as Drupal does.
const BLOCK: &str =
    "(?:table|thead|tfoot|caption|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|select|form|blockquote|address|p|h[1-6]|hr)";

struct Rules {
    br_br: Regex,
    block_open: Regex,
    block_close: Regex,
    many_newlines: Regex,
    edge_newlines: Regex,
    paragraph_break: Regex,
    p_li: Regex,
    p_blockquote: Regex,
    empty_p: Regex,
    p_before_block: Regex,
    block_before_end_p: Regex,
    block_then_br: Regex,
    br_before_end: Regex,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("autop pattern {p}: {e}"));
    Rules {
        br_br: re(r"<br />(?-u:\s)*<br />"),
        block_open: re(&format!("<{BLOCK}[^>]*>")),
        block_close: re(&format!("</{BLOCK}>")),
        many_newlines: re(r"\n\n+"),
        edge_newlines: re(r"^\n|\n(?-u:\s)*\n\z"),
        paragraph_break: re(r"\n(?-u:\s)*\n\n?(.)"),
        p_li: re(r"<p>(<li.+?)</p>"),
        p_blockquote: re(r"(?i)<p><blockquote([^>]*)>"),
        empty_p: re(r"<p>(?-u:\s)*</p>\n?"),
        p_before_block: re(&format!(r"<p>(?-u:\s)*(</?{BLOCK}[^>]*>)")),
        block_before_end_p: re(&format!(r"(</?{BLOCK}[^>]*>)(?-u:\s)*</p>")),
        block_then_br: re(&format!(r"(</?{BLOCK}[^>]*>)(?-u:\s)*<br />")),
        br_before_end: re(r"<br />((?-u:\s)*</?(?:p|li|div|th|pre|td|ul|ol)>)"),
    }
});

/// The line-break filter. It has no settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Autop;

impl Autop {
    /// Appends `input` with line and paragraph breaks to `out`.
    pub(crate) fn apply(&self, input: &str, out: &mut String) {
        // Protected regions (pre, script, style, object, iframe, svg, comments)
        // are copied untouched; an opening tag protects up to the closing tag
        // with exactly the same name.
        let mut ignore_until: Option<String> = None;
        let mut last = 0;
        for m in ProtectedDelimiters::new(input) {
            let literal = &input[last..m.start];
            if ignore_until.is_none() {
                process_chunk(literal, out);
            } else {
                out.push_str(literal);
            }
            let delim = &input[m.clone()];
            out.push_str(delim);
            if let Some(closing) = &ignore_until {
                if delim.len() >= closing.len() + 2 && delim[2..].starts_with(closing.as_str()) {
                    ignore_until = None;
                }
            } else if !delim.starts_with("<!--") && !delim.starts_with("</") {
                let name: String = delim[1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                ignore_until = Some(name);
            }
            last = m.end;
        }
        let literal = &input[last..];
        if ignore_until.is_none() {
            process_chunk(literal, out);
        } else {
            out.push_str(literal);
        }
    }
}

/// Drupal's protected-region delimiters, one after the other, as
/// `find_iter` of `(?is)<!--.*?-->|</?(?:pre|script|style|object|iframe|svg|!--)[^>]*>`
/// finds them: a comment to its first `-->`, else (an unclosed `<!--`, a
/// protected tag name, as a prefix, in any case) to the next `>`. Written
/// out because that regex, run over many unclosed `<!-- >`, looks to the
/// end of the input for a `-->` from each of them; here each question is
/// asked of a [`Next`], which remembers the answer.
struct ProtectedDelimiters<'a> {
    text: &'a str,
    at: usize,
    comment_end: Next,
    gt: Next,
}

/// The protected names; `!--` too, after `<` or `</`.
const PROTECTED: [&str; 7] = ["pre", "script", "style", "object", "iframe", "svg", "!--"];

impl<'a> ProtectedDelimiters<'a> {
    fn new(text: &'a str) -> Self {
        ProtectedDelimiters {
            text,
            at: 0,
            comment_end: Next::new(b"-->"),
            gt: Next::new(b">"),
        }
    }
}

/// The length of `name` at the start of `s`, compared as the regex
/// crate's `(?i)` compares: ASCII case folded, and `ſ` (U+017F) for `s`.
fn prefix_len_ignoring_case(s: &str, name: &str) -> Option<usize> {
    let mut len = 0;
    let mut chars = s.chars();
    for want in name.chars() {
        let c = chars.next()?;
        if !(c.eq_ignore_ascii_case(&want) || (want == 's' && c == '\u{17f}')) {
            return None;
        }
        len += c.len_utf8();
    }
    Some(len)
}

impl Iterator for ProtectedDelimiters<'_> {
    type Item = std::ops::Range<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.text.as_bytes();
        loop {
            let lt = markup::find_byte(b, self.at, b'<')?;
            self.at = lt + 1;
            let end = if b[lt..].starts_with(b"<!--") {
                match self.comment_end.at_or_after(b, lt + 4) {
                    Some(arrow) => Some(arrow + 3),
                    None => self.gt.at_or_after(b, lt + 4).map(|gt| gt + 1),
                }
            } else {
                let name_at = if b.get(lt + 1) == Some(&b'/') {
                    lt + 2
                } else {
                    lt + 1
                };
                // The first byte rules most tags out (0xC5 starts `ſ`).
                let first = b.get(name_at).map(u8::to_ascii_lowercase);
                if !matches!(first, Some(b'p' | b's' | b'o' | b'i' | b'!' | 0xc5)) {
                    continue;
                }
                let name_len = PROTECTED
                    .iter()
                    .find_map(|name| prefix_len_ignoring_case(&self.text[name_at..], name));
                name_len.and_then(|len| self.gt.at_or_after(b, name_at + len).map(|gt| gt + 1))
            };
            if let Some(end) = end {
                self.at = end;
                return Some(lt..end);
            }
        }
    }
}

fn process_chunk(chunk: &str, out: &mut String) {
    if chunk.is_empty() {
        return;
    }
    if only_inline_links(chunk) {
        return process_text_chunk(chunk, out);
    }
    process_chunk_with_rules(chunk, out);
}

/// True when every tag in `chunk` is `<a …>` or `</a>` (all Plain text
/// holds: the links the `url` filter made). No rule about tags can match
/// those — they name block tags, `<br />`, `<li` or `<blockquote` — so the
/// text-only path gives the same result; a property test checks it.
fn only_inline_links(chunk: &str) -> bool {
    let b = chunk.as_bytes();
    memchr::memchr_iter(b'<', b).all(|i| {
        matches!(
            &b[i + 1..],
            [b'a', b' ' | b'>', ..] | [b'/', b'a', b'>', ..]
        )
    })
}

/// [`process_chunk_with_rules`] for text without any tag but inline links
/// (all of Plain text), in one scan: without tags, the rules reduce to paragraphs split at
/// blank lines, whitespace-only paragraphs dropped, line breaks inside
/// paragraphs, and stray `&` escaped. A property test checks that both give
/// the same result.
fn process_text_chunk(chunk: &str, out: &mut String) {
    // Steps 1, 4 and 5: trailing newlines, runs of newlines, the edges.
    let src = chunk.trim_end_matches('\n');
    let src_bytes = src.as_bytes();
    let mut s = String::with_capacity(src.len() + 2);
    let mut copied = 0;
    while let Some(off) = memchr::memchr(b'\n', &src_bytes[copied..]) {
        let nl = copied + off;
        let run_end = nl + src_bytes[nl..].iter().take_while(|&&c| c == b'\n').count();
        s.push_str(&src[copied..nl]);
        s.push_str(if run_end - nl >= 2 { "\n\n" } else { "\n" });
        copied = run_end;
    }
    s.push_str(&src[copied..]);
    s.push_str("\n\n");
    let mut body: &str = &s;
    if let Some(rest) = body.strip_prefix('\n') {
        body = rest;
    }
    // `\n\s*\n\z`: from the first newline of the trailing whitespace.
    let b = body.as_bytes();
    let tail_start = b
        .iter()
        .rposition(|&c| !is_php_space(c))
        .map_or(0, |i| i + 1);
    if let Some(nl) = b[tail_start..].iter().position(|&c| c == b'\n') {
        let cut = tail_start + nl;
        if b[cut + 1..].contains(&b'\n') {
            body = &body[..cut];
        }
    }
    // Steps 6-12: paragraphs at whitespace runs holding two newlines or more.
    let mut result = String::with_capacity(body.len() + 32);
    let mut para_start = 0;
    for run in newline_runs(body) {
        if let (Some(first), Some(last)) = (run.first_newline, run.last_newline) {
            if first != last && last + 1 < body.len() {
                push_paragraph(&body[para_start..first], &mut result);
                para_start = last + 1;
            }
        }
    }
    push_paragraph(&body[para_start..], &mut result);
    escape_stray_ampersands(&result, out);
}

/// One piece of [`text_paragraphs`]' output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// `<p>`.
    Open,
    /// The text `start..end` of the input, as it is.
    Text(usize, usize),
    /// `<br />` and a newline.
    Break,
    /// A bare newline.
    Newline,
    /// `</p>` and a newline.
    Close,
}

/// What [`Autop::apply`] makes of text without any tag or `&`, as pieces
/// of the input between the markup it adds: the same steps as
/// [`process_text_chunk`], on offsets instead of a rewritten copy. (The
/// fast path writes the pieces, escaped and linked, in one pass; a
/// property test checks both agree.)
pub(crate) fn text_paragraphs(text: &str, mut emit: impl FnMut(Piece)) {
    let src = text.trim_end_matches('\n');
    let b = src.as_bytes();
    // Only whitespace: no paragraph at all.
    let Some(last_visible) = b.iter().rposition(|&c| !is_php_space(c)) else {
        return;
    };
    // Runs of newlines become two, then one leading newline goes: a
    // single leading newline vanishes, a longer run leaves one.
    let lead = b.iter().take_while(|&&c| c == b'\n').count();
    let body_start = lead.saturating_sub(usize::from(lead > 1));
    // The trailing whitespace goes from its first newline.
    let tail = last_visible + 1;
    let body_end = memchr::memchr(b'\n', &b[tail..]).map_or(b.len(), |i| tail + i);
    let body = &src[body_start..body_end];
    let mut para_start = 0;
    for run in newline_runs(body) {
        if let (Some(first), Some(last)) = (run.first_newline, run.last_newline) {
            if first != last && last + 1 < body.len() {
                paragraph_pieces(body, body_start, para_start, first, &mut emit);
                para_start = last + 1;
            }
        }
    }
    paragraph_pieces(body, body_start, para_start, body.len(), &mut emit);
}

/// [`push_paragraph`] for `body[start..end]`, as pieces offset by `base`.
fn paragraph_pieces(
    body: &str,
    base: usize,
    start: usize,
    end: usize,
    emit: &mut impl FnMut(Piece),
) {
    let p = &body[start..end];
    if p.bytes().all(is_php_space) {
        return;
    }
    emit(Piece::Open);
    let mut copied = 0;
    for run in newline_runs(p) {
        if let Some(nl) = run.last_newline {
            if run.start > copied {
                emit(Piece::Text(base + start + copied, base + start + run.start));
            }
            emit(if run.start == 0 {
                Piece::Newline
            } else {
                Piece::Break
            });
            copied = nl + 1;
        }
    }
    if p.len() > copied {
        emit(Piece::Text(base + start + copied, base + end));
    }
    emit(Piece::Close);
}

/// One paragraph of tag-free text: none if it is only whitespace, else
/// `<p>…</p>` with each whitespace run that holds a newline written as a
/// line break (as a bare newline at the very start, where Drupal's rules
/// take the `<br />` back).
fn push_paragraph(p: &str, out: &mut String) {
    if p.bytes().all(is_php_space) {
        return;
    }
    out.push_str("<p>");
    let mut copied = 0;
    for run in newline_runs(p) {
        if let Some(nl) = run.last_newline {
            out.push_str(&p[copied..run.start]);
            out.push_str(if run.start == 0 { "\n" } else { "<br />\n" });
            copied = nl + 1;
        }
    }
    out.push_str(&p[copied..]);
    out.push_str("</p>\n");
}

/// Drupal's rules one by one, for text that holds tags.
fn process_chunk_with_rules(chunk: &str, out: &mut String) {
    let r = &*RULES;
    // Rules about tags the author wrote cannot match text without any; plain
    // text (everything escaped) skips them. The `<p>` and `<br />` this
    // filter adds itself are handled by the rules that always run.
    let has_tags = chunk.contains('<');
    let mut s = String::with_capacity(chunk.len() + 32);
    s.push_str(chunk.trim_end_matches('\n'));
    s.push_str("\n\n");
    let s = if has_tags {
        let s = replace(&r.br_br, s, "\n\n");
        let s = edit_matches(&r.block_open, s, |m, out| {
            out.push('\n');
            out.push_str(m);
        });
        edit_matches(&r.block_close, s, |m, out| {
            out.push_str(m);
            out.push_str("\n\n");
        })
    } else {
        s
    };
    let s = replace(&r.many_newlines, s, "\n\n");
    let s = replace(&r.edge_newlines, s, "");
    let mut p = String::with_capacity(s.len() + 32);
    p.push_str("<p>");
    // `\n\s*\n\n?(.)` becomes `</p>\n<p>` and the character `(.)`.
    let mut last = 0;
    markup::examined(s.len() + 1);
    for m in r.paragraph_break.find_iter(&s) {
        p.push_str(&s[last..m.start()]);
        p.push_str("</p>\n<p>");
        let kept = m.as_str().chars().next_back().map_or(0, char::len_utf8);
        p.push_str(&m.as_str()[m.as_str().len() - kept..]);
        last = m.end();
    }
    p.push_str(&s[last..]);
    p.push_str("</p>\n");
    let s = if has_tags {
        // `<p>(<li.+?)</p>` becomes `$1`.
        let s = edit_matches(&r.p_li, p, |m, out| out.push_str(&m[3..m.len() - 4]));
        // `<p><blockquote([^>]*)>` becomes `<blockquote$1><p>`.
        let s = edit_matches(&r.p_blockquote, s, |m, out| {
            out.push_str("<blockquote");
            out.push_str(&m[14..m.len() - 1]);
            out.push_str("><p>");
        });
        if s.contains("</blockquote></p>") {
            s.replace("</blockquote></p>", "</p></blockquote>")
        } else {
            s
        }
    } else {
        p
    };
    let s = replace(&r.empty_p, s, "");
    let s = if has_tags {
        // `<p>\s*(</?BLOCK[^>]*>)` becomes `$1`.
        let s = edit_matches(&r.p_before_block, s, |m, out| {
            out.push_str(
                m[3..].trim_start_matches(|c: char| c.is_ascii() && is_php_space(c as u8)),
            );
        });
        // `(</?BLOCK[^>]*>)\s*</p>` becomes `$1`.
        edit_matches(&r.block_before_end_p, s, |m, out| {
            out.push_str(
                m[..m.len() - 4].trim_end_matches(|c: char| c.is_ascii() && is_php_space(c as u8)),
            );
        })
    } else {
        s
    };
    let s = line_breaks(&s);
    // `(</?BLOCK[^>]*>)\s*<br />` becomes `$1`: the tag, up to its `>`.
    let s = edit_matches(&r.block_then_br, s, |m, out| {
        let tag_end = m.find('>').map_or(m.len(), |i| i + 1);
        out.push_str(&m[..tag_end]);
    });
    // `<br />(\s*</?(?:p|li|div|th|pre|td|ul|ol)>)` becomes `$1`.
    let s = edit_matches(&r.br_before_end, s, |m, out| out.push_str(&m[6..]));
    escape_stray_ampersands(&s, out);
}

/// `regex::replace_all` that keeps the original allocation when nothing matches
/// (for replacements without `$` references).
fn replace(re: &Regex, s: String, rep: &str) -> String {
    // One pass of the regex engine, which is linear for these patterns
    // (none prefers a longer alternative it has to look ahead for).
    markup::examined(s.len() + 1);
    match re.replace_all(&s, rep) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// Replaces every match by what `edit` writes for it; needs no capture
/// groups, so the regex crate's fastest engine finds the matches.
fn edit_matches(re: &Regex, s: String, mut edit: impl FnMut(&str, &mut String)) -> String {
    markup::examined(s.len() + 1);
    let mut matches = re.find_iter(&s).peekable();
    if matches.peek().is_none() {
        drop(matches);
        return s;
    }
    let mut out = String::with_capacity(s.len() + 64);
    let mut last = 0;
    for m in matches {
        out.push_str(&s[last..m.start()]);
        edit(m.as_str(), &mut out);
        last = m.end();
    }
    out.push_str(&s[last..]);
    out
}

/// Drupal: `(?<!<br />)\s*\n` becomes `<br />\n`, i.e. every run of
/// whitespace up to its last newline turns into one line break, unless a
/// `<br />` already stands right before it (then the run becomes a plain
/// newline: the break is there already).
fn line_breaks(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 64);
    let mut copied = 0;
    for run in newline_runs(s) {
        let Some(nl) = run.last_newline else { continue };
        out.push_str(&s[copied..run.start]);
        if s[..run.start].ends_with("<br />") {
            out.push('\n');
        } else {
            out.push_str("<br />\n");
        }
        copied = nl + 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// A maximal run of PCRE whitespace, with where its first and last
/// newlines are (byte offsets in the text).
struct WhitespaceRun {
    start: usize,
    first_newline: Option<usize>,
    last_newline: Option<usize>,
}

/// The whitespace runs of `s` that hold a newline, left to right: the rules
/// above are all about those. Found from the newlines (a vector search)
/// rather than by looking at every byte.
fn newline_runs(s: &str) -> impl Iterator<Item = WhitespaceRun> + '_ {
    let b = s.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        let nl = from + memchr::memchr(b'\n', &b[from..])?;
        let start = b[from..nl]
            .iter()
            .rposition(|&c| !is_php_space(c))
            .map_or(from, |i| from + i + 1);
        let end = nl + b[nl..].iter().take_while(|&&c| is_php_space(c)).count();
        let last = nl + memchr::memrchr(b'\n', &b[nl..end]).unwrap_or(0);
        markup::examined(end - from + 1);
        from = end;
        Some(WhitespaceRun {
            start,
            first_newline: Some(nl),
            last_newline: Some(last),
        })
    })
}

/// Every whitespace run of `s`, byte by byte: the reference
/// [`newline_runs`] is checked against.
#[cfg(test)]
fn whitespace_runs(s: &str) -> impl Iterator<Item = WhitespaceRun> + '_ {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !is_php_space(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let mut run = WhitespaceRun {
            start: i,
            first_newline: None,
            last_newline: None,
        };
        while i < b.len() && is_php_space(b[i]) {
            if b[i] == b'\n' {
                run.first_newline.get_or_insert(i);
                run.last_newline = Some(i);
            }
            i += 1;
        }
        Some(run)
    })
}

/// PCRE's `\s` without UTF mode: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_php_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Drupal: `&([^#])(?![A-Za-z0-9]{1,8};)` becomes `&amp;$1`: an `&` that does
/// not start something reference-like is escaped.
fn escape_stray_ampersands(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'&', &b[i..]) {
        let amp = i + off;
        let Some(&next) = b.get(amp + 1) else { break };
        if next == b'#' {
            i = amp + 1;
            continue;
        }
        let next_len = if next.is_ascii() {
            1
        } else {
            s[amp + 1..].chars().next().map_or(1, char::len_utf8)
        };
        let after = amp + 1 + next_len;
        // Nine are enough to tell: a reference has at most eight.
        let run = b[after.min(b.len())..]
            .iter()
            .take(9)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        markup::examined(after + run - amp + 1);
        let looks_like_reference = (1..=8).contains(&run) && b.get(after + run) == Some(&b';');
        if looks_like_reference {
            i = amp + 1;
            continue;
        }
        out.push_str(&s[copied..amp]);
        out.push_str("&amp;");
        copied = amp + 1;
        i = after;
    }
    out.push_str(&s[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn autop(s: &str) -> String {
        let mut out = String::new();
        Autop.apply(s, &mut out);
        out
    }

    #[test]
    fn text_becomes_a_paragraph() {
        assert_eq!(autop("Hello"), "<p>Hello</p>\n");
    }

    #[test]
    fn blank_lines_make_paragraphs_and_newlines_make_breaks() {
        assert_eq!(autop("a\nb\n\nc"), "<p>a<br />\nb</p>\n<p>c</p>\n");
    }

    #[test]
    fn whitespace_only_input_gives_nothing() {
        assert_eq!(autop(""), "");
        assert_eq!(autop("  \n \n"), "");
    }

    #[test]
    fn spaces_between_paragraphs_stay_with_their_paragraph() {
        assert_eq!(
            autop("Line 1  \n  \n  Line 2"),
            "<p>Line 1  </p>\n<p>  Line 2</p>\n"
        );
    }

    #[test]
    fn blockquote_is_left_as_a_block() {
        assert_eq!(
            autop("<blockquote>A quote.</blockquote>"),
            "<blockquote><p>A quote.</p></blockquote>\n"
        );
    }

    #[test]
    fn two_br_tags_make_a_paragraph_break() {
        assert_eq!(autop("one<br /><br />two"), "<p>one</p>\n<p>two</p>\n");
    }

    #[test]
    fn a_br_followed_by_spaces_and_a_newline_breaks_once() {
        assert_eq!(autop("line<br /> \nnext"), "<p>line<br />\nnext</p>\n");
    }

    #[test]
    fn long_entity_names_get_their_ampersand_escaped() {
        assert_eq!(
            autop("&verylongname; &amp; &#1;"),
            "<p>&amp;verylongname; &amp; &#1;</p>\n"
        );
    }

    proptest::proptest! {
        /// The one-scan path for text without tags but inline links gives
        /// exactly what the rules give.
        #[test]
        fn text_without_tags_gets_the_same_result_from_both_paths(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "bc", "é", "&", "&amp;", "&x;", " ", "  ", "\t", "\n", "\n\n", "\u{b}", "\u{c}", "\r", ".",
                "<a href=\"http://x.example/?a&amp;b\" rel=\"nofollow ugc\">", "<a>", "</a>", "<a href=y\n>", "<a href=\"&\">",
            ]), 0..24),
        ) {
            let text: String = pieces.concat();
            proptest::prop_assert!(only_inline_links(&text));
            let mut fast = String::new();
            process_text_chunk(&text, &mut fast);
            let mut rules = String::new();
            if !text.is_empty() {
                process_chunk_with_rules(&text, &mut rules);
            }
            proptest::prop_assert_eq!(fast, rules, "input {:?}", text);
        }
    }

    proptest::proptest! {
        /// The newline-driven search finds exactly the whitespace runs that
        /// hold a newline.
        #[test]
        fn newline_runs_are_the_whitespace_runs_with_newlines(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "é", " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\n\n", "x y",
            ]), 0..32),
        ) {
            let text: String = pieces.concat();
            let key = |r: WhitespaceRun| (r.start, r.first_newline, r.last_newline);
            let fast: Vec<_> = newline_runs(&text).map(key).collect();
            let slow: Vec<_> = whitespace_runs(&text)
                .filter(|r| r.last_newline.is_some())
                .map(key)
                .collect();
            proptest::prop_assert_eq!(fast, slow, "input {:?}", text);
        }
    }

    #[test]
    fn only_link_tags_take_the_text_path() {
        assert!(only_inline_links("x <a href=\"y\">y</a> z"));
        assert!(only_inline_links("no tags"));
        for other in [
            "<abbr>",
            "<b>",
            "<br />",
            "<address>",
            "<a\thref=x>",
            "x <",
            "</ab>",
        ] {
            assert!(!only_inline_links(other), "{other}");
        }
    }

    proptest::proptest! {
        /// The delimiter scan finds exactly what Drupal's regular expression
        /// finds.
        #[test]
        fn protected_delimiters_are_what_the_regex_finds(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "<!--", "-->", "--", "-", "<!-- >", "<", ">", "</", "<pre", "<PRE>", "</pre>", "<script", "<ſcript>",
                "<style x>", "<object", "<iframe", "<svg/>", "<sv", "<!", "</!--", "<presto>", "a", " ", "\n", "é",
            ]), 0..24),
        ) {
            let text: String = pieces.concat();
            let regex = Regex::new(r"(?is)<!--.*?-->|</?(?:pre|script|style|object|iframe|svg|!--)[^>]*>")
                .unwrap_or_else(|e| panic!("{e}"));
            let expected: Vec<_> = regex.find_iter(&text).map(|m| m.range()).collect();
            let found: Vec<_> = ProtectedDelimiters::new(&text).collect();
            proptest::prop_assert_eq!(found, expected, "input {:?}", text);
        }
    }

    #[test]
    fn pre_content_is_not_touched() {
        assert_eq!(autop("a\n<pre>x\n\ny</pre>"), "<p>a</p>\n<pre>x\n\ny</pre>");
    }
}
