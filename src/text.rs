//! Character-level helpers shared by the filters: escaping, entity decoding and
//! the characters that never belong in a comment.

use html5ever::data::NAMED_ENTITIES;

/// Escapes text the way Drupal's `check_plain` does: `& < > " '`.
///
/// Used wherever text is written into HTML, both as content and inside a
/// double-quoted attribute value.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    // Two SIMD searches (markup characters, quotes) instead of a look at
    // every byte: most text has few characters to escape.
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut next_markup = memchr::memchr3(b'&', b'<', b'>', bytes);
    let mut next_quote = memchr::memchr2(b'"', b'\'', bytes);
    loop {
        let i = match (next_markup, next_quote) {
            (None, None) => break,
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (Some(a), Some(b)) => a.min(b),
        };
        let rep = match bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#039;",
        };
        out.push_str(&text[start..i]);
        out.push_str(rep);
        start = i + 1;
        if next_markup == Some(i) {
            next_markup = memchr::memchr3(b'&', b'<', b'>', &bytes[start..]).map(|p| p + start);
        } else {
            next_quote = memchr::memchr2(b'"', b'\'', &bytes[start..]).map(|p| p + start);
        }
    }
    out.push_str(&text[start..]);
}

/// Escapes an attribute value for a double-quoted attribute: `& < > "`, and
/// tab, newline and carriage return as references (as XHTML writers do, so
/// the value survives attribute-value normalisation unchanged).
pub(crate) fn escape_attr_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\t' => "&#9;",
            b'\n' => "&#10;",
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// Escapes text content with only the three characters markup needs: `& < >`.
pub(crate) fn escape_text_min_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// True for characters removed from a comment before any filter sees it:
/// C0 controls other than tab, newline and form feed (HTML does not allow
/// them), and the bidirectional embedding/override/isolate controls (they
/// reorder the text around them: `\u{202e}gnp.exe` reads as `exe.png`).
/// Form feed, U+FFFE and U+FFFF are left to the filters, as Drupal leaves
/// them (its HTML corrector drops them last, after the line breaks are
/// placed), and removed from every output by [`is_forbidden_in_output`].
pub(crate) fn is_forbidden_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{d}'..='\u{1f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// True for characters no output may hold: those of [`is_forbidden_char`],
/// and form feed, U+FFFE and U+FFFF, which XML 1.0 forbids (one form feed in
/// a comment made the Atom feed unreadable for every reader).
pub(crate) fn is_forbidden_in_output(c: char) -> bool {
    is_forbidden_char(c) || matches!(c, '\u{c}' | '\u{fffe}' | '\u{ffff}')
}

/// Does `s` hold a character of [`is_forbidden_char`] (or `\r`)? A byte
/// scan: C0 controls are single bytes, and the bidi controls all start with
/// `E2 80` or `E2 81`.
pub(crate) fn has_forbidden(s: &str) -> bool {
    scan(s.as_bytes(), false)
}

/// Does `s` hold a character of [`is_forbidden_in_output`] (or `\r`)?
pub(crate) fn has_forbidden_in_output(s: &str) -> bool {
    scan(s.as_bytes(), true)
}

fn scan(b: &[u8], output: bool) -> bool {
    has_forbidden_control(b, output)
        || memchr::memchr2_iter(0xe2, 0xef, b).any(|i| {
            matches!(
                (b[i], b.get(i + 1), b.get(i + 2)),
                (0xe2, Some(0x80), Some(0xaa..=0xae)) | (0xe2, Some(0x81), Some(0xa6..=0xa9))
            ) || (output
                && matches!(
                    (b[i], b.get(i + 1), b.get(i + 2)),
                    (0xef, Some(0xbf), Some(0xbe | 0xbf))
                ))
        })
}

/// Any C0 control other than tab, newline and (unless `output`) form feed?
/// Eight bytes at a time: a word with no byte below 0x20 is skipped whole.
fn has_forbidden_control(b: &[u8], output: bool) -> bool {
    const LOW: u64 = 0x2020_2020_2020_2020;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let forbidden = |c: u8| c < 0x20 && !matches!(c, b'\t' | b'\n') && (output || c != 0x0c);
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // The high bit of each byte below 0x20 ends up set (bytes of 0x80 and
        // above are masked out by `!x`).
        if x.wrapping_sub(LOW) & !x & HIGH != 0 && chunk.iter().any(|&c| forbidden(c)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&c| forbidden(c))
}

/// Characters that change how the text around them looks without showing
/// themselves: zero-width spaces and joiners, direction marks, overrides
/// and isolates, the word joiner and invisible operators, the byte-order
/// mark, the soft hyphen, fillers that render as nothing (Hangul, Braille
/// blank), Mongolian and Khmer invisible vowels, interlinear annotation and
/// tag characters. In a name they let one person pass for another
/// (`admin\u{202e}gnp.exe` displays as `adminexe.png`, `ad\u{200d}min` as
/// `admin`).
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{2800}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// Text a reader sees on its own (a name, a title), without invisible
/// formatting. Zero-width (non-)joiners are kept between two non-ASCII
/// characters and variation selectors after one, where scripts and emoji
/// need them (Persian words, `👩\u{200d}💻`, `❤\u{fe0f}`); anywhere else they
/// only disguise.
pub(crate) fn visible_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() || !s.chars().any(is_invisible_format) {
        return std::borrow::Cow::Borrowed(s);
    }
    let chars: Vec<char> = s.chars().collect();
    // For each position: is the next visible character non-ASCII? (One
    // backward pass, so a run of invisibles costs no more than its length.)
    let mut next_non_ascii = vec![false; chars.len()];
    let mut seen = false;
    for (i, &c) in chars.iter().enumerate().rev() {
        next_non_ascii[i] = seen;
        if !is_invisible_format(c) {
            seen = !c.is_ascii();
        }
    }
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if !is_invisible_format(c) {
            out.push(c);
            continue;
        }
        let before = out.chars().next_back().is_some_and(|b| !b.is_ascii());
        let keep = match c {
            '\u{200c}' | '\u{200d}' => before && next_non_ascii[i],
            // A variation selector picks the look of the symbol before it.
            '\u{fe00}'..='\u{fe0f}' => before,
            _ => false,
        };
        if keep {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` without the characters no output may hold ([`is_forbidden_in_output`];
/// `\r` too); borrowed when there is none. For text that reaches a page, a
/// feed or an e-mail without a text format: names, titles, thread keys.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn without_forbidden(s: &str) -> std::borrow::Cow<'_, str> {
    if has_forbidden_in_output(s) {
        std::borrow::Cow::Owned(
            s.chars()
                .filter(|&c| c != '\r' && !is_forbidden_in_output(c))
                .collect(),
        )
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Removes forbidden characters, turns `\r\n` and lone `\r` into `\n`.
///
/// Returns the input unchanged (borrowed) in the common case where there is
/// nothing to do, so plain comments cost one scan.
pub(crate) fn normalize_input(input: &str) -> std::borrow::Cow<'_, str> {
    // `\r` is one of the forbidden controls, so one byte scan finds both.
    if !has_forbidden(input) {
        return std::borrow::Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    // Line by `\r`: most such comments only have Windows line endings, and
    // the pieces between them are copied whole.
    let mut rest = input;
    loop {
        let (piece, after) = match memchr::memchr(b'\r', rest.as_bytes()) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if has_forbidden(piece) {
            out.extend(piece.chars().filter(|&c| !is_forbidden_char(c)));
        } else {
            out.push_str(piece);
        }
        let Some(after) = after else { break };
        out.push('\n');
        rest = after.strip_prefix('\n').unwrap_or(after);
    }
    std::borrow::Cow::Owned(out)
}

/// A character reference found at the start of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharRef {
    /// `&#NNN;` or `&#xHH;`: the code point (possibly invalid) and the length.
    Numeric { code: u32, len: usize },
    /// `&name;` with a name of letters and digits: the name's length is `len - 2`.
    Named { len: usize },
}

/// Parses a character reference (`&#65;`, `&#x41;`, `&amp;`) at the start of
/// `s`, which must begin with `&`. Names are not looked up here.
pub(crate) fn parse_char_ref(s: &str) -> Option<CharRef> {
    let b = s.as_bytes();
    if b.first() != Some(&b'&') {
        return None;
    }
    match b.get(1) {
        Some(b'#') => {
            let (hex, digits_start) = match b.get(2) {
                Some(b'x') | Some(b'X') => (true, 3),
                _ => (false, 2),
            };
            let mut i = digits_start;
            let mut code: u32 = 0;
            while let Some(&d) = b.get(i) {
                let v = match (hex, d) {
                    (_, b'0'..=b'9') => (d - b'0') as u32,
                    (true, b'a'..=b'f') => (d - b'a' + 10) as u32,
                    (true, b'A'..=b'F') => (d - b'A' + 10) as u32,
                    _ => break,
                };
                // Saturate instead of overflowing: anything this large is invalid anyway.
                code = code
                    .saturating_mul(if hex { 16 } else { 10 })
                    .saturating_add(v);
                i += 1;
            }
            if i == digits_start || b.get(i) != Some(&b';') {
                return None;
            }
            Some(CharRef::Numeric { code, len: i + 1 })
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let mut i = 2;
            while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
                i += 1;
            }
            if b.get(i) != Some(&b';') {
                return None;
            }
            Some(CharRef::Named { len: i + 1 })
        }
        _ => None,
    }
}

/// Looks up a named reference such as `&eacute;` (with `&` and `;`): one
/// of HTML 4's names, as Drupal knows them ([`HTML4_NAMES`]).
pub(crate) fn lookup_named(reference: &str) -> Option<(char, Option<char>)> {
    let name = reference.strip_prefix('&')?;
    if !is_html4_name(name.strip_suffix(';')?) {
        return None;
    }
    // HTML 4 (which Drupal and libxml2 follow) gave these two the older
    // angle-bracket code points; HTML5 moved them.
    match name {
        "lang;" => return Some(('\u{2329}', None)),
        "rang;" => return Some(('\u{232a}', None)),
        _ => {}
    }
    let &(a, b) = NAMED_ENTITIES.get(name)?;
    let first = char::from_u32(a)?;
    let second = if b == 0 { None } else { char::from_u32(b) };
    Some((first, second))
}

/// The named references of HTML 4.01 (and `&apos;`), sorted: the names
/// Drupal 7 knows, through PHP's `html_entity_decode` and libxml2. HTML5's
/// longer list adds names such as `&AMP;`, `&LT;` or `&NotEqual;`, which
/// Drupal leaves as text; so do we. (Names are case-sensitive.)
#[rustfmt::skip]
const HTML4_NAMES: &[&str] = &[
    "AElig", "Aacute", "Acirc", "Agrave", "Alpha", "Aring", "Atilde", "Auml", "Beta", "Ccedil",
    "Chi", "Dagger", "Delta", "ETH", "Eacute", "Ecirc", "Egrave", "Epsilon", "Eta", "Euml",
    "Gamma", "Iacute", "Icirc", "Igrave", "Iota", "Iuml", "Kappa", "Lambda", "Mu", "Ntilde",
    "Nu", "OElig", "Oacute", "Ocirc", "Ograve", "Omega", "Omicron", "Oslash", "Otilde", "Ouml",
    "Phi", "Pi", "Prime", "Psi", "Rho", "Scaron", "Sigma", "THORN", "Tau", "Theta",
    "Uacute", "Ucirc", "Ugrave", "Upsilon", "Uuml", "Xi", "Yacute", "Yuml", "Zeta", "aacute",
    "acirc", "acute", "aelig", "agrave", "alefsym", "alpha", "amp", "and", "ang", "apos",
    "aring", "asymp", "atilde", "auml", "bdquo", "beta", "brvbar", "bull", "cap", "ccedil",
    "cedil", "cent", "chi", "circ", "clubs", "cong", "copy", "crarr", "cup", "curren",
    "dArr", "dagger", "darr", "deg", "delta", "diams", "divide", "eacute", "ecirc", "egrave",
    "empty", "emsp", "ensp", "epsilon", "equiv", "eta", "eth", "euml", "euro", "exist",
    "fnof", "forall", "frac12", "frac14", "frac34", "frasl", "gamma", "ge", "gt", "hArr",
    "harr", "hearts", "hellip", "iacute", "icirc", "iexcl", "igrave", "image", "infin", "int",
    "iota", "iquest", "isin", "iuml", "kappa", "lArr", "lambda", "lang", "laquo", "larr",
    "lceil", "ldquo", "le", "lfloor", "lowast", "loz", "lrm", "lsaquo", "lsquo", "lt",
    "macr", "mdash", "micro", "middot", "minus", "mu", "nabla", "nbsp", "ndash", "ne",
    "ni", "not", "notin", "nsub", "ntilde", "nu", "oacute", "ocirc", "oelig", "ograve",
    "oline", "omega", "omicron", "oplus", "or", "ordf", "ordm", "oslash", "otilde", "otimes",
    "ouml", "para", "part", "permil", "perp", "phi", "pi", "piv", "plusmn", "pound",
    "prime", "prod", "prop", "psi", "quot", "rArr", "radic", "rang", "raquo", "rarr",
    "rceil", "rdquo", "real", "reg", "rfloor", "rho", "rlm", "rsaquo", "rsquo", "sbquo",
    "scaron", "sdot", "sect", "shy", "sigma", "sigmaf", "sim", "spades", "sub", "sube",
    "sum", "sup", "sup1", "sup2", "sup3", "supe", "szlig", "tau", "there4", "theta",
    "thetasym", "thinsp", "thorn", "tilde", "times", "trade", "uArr", "uacute", "uarr", "ucirc",
    "ugrave", "uml", "upsih", "upsilon", "uuml", "weierp", "xi", "yacute", "yen", "yuml",
    "zeta", "zwj", "zwnj",
];

/// Is `name` (without `&` and `;`) one of [`HTML4_NAMES`]?
fn is_html4_name(name: &str) -> bool {
    HTML4_NAMES
        .binary_search_by(|n| n.as_bytes().cmp(name.as_bytes()))
        .is_ok()
}

/// The character a numeric reference stands for, or `None` when it names
/// nothing a comment may contain (NUL, surrogates, out of range, controls,
/// bidi overrides).
pub(crate) fn numeric_char(code: u32) -> Option<char> {
    let c = char::from_u32(code)?;
    if c == '\0' || is_forbidden_char(c) {
        None
    } else {
        Some(c)
    }
}

/// Decodes every valid character reference in `s` (attribute values, link
/// text). Unknown names and malformed references stay as they are.
pub(crate) fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        match parse_char_ref(rest) {
            Some(CharRef::Numeric { code, len }) => {
                if let Some(c) = numeric_char(code) {
                    out.push(c);
                }
                rest = &rest[len..];
            }
            Some(CharRef::Named { len }) => match lookup_named(&rest[..len]) {
                Some((a, b)) => {
                    out.push(a);
                    if let Some(b) = b {
                        out.push(b);
                    }
                    rest = &rest[len..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            },
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The largest index `<= i` that is a character boundary of `s`.
pub(crate) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and column of byte `offset` in `text` (for error messages).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// PHP's `trim()` set: space, tab, newline, carriage return, NUL, vertical tab.
pub(crate) fn php_trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\u{b}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_special_characters() {
        let mut s = String::new();
        escape_into(&mut s, "<a href=\"x\">'&'</a>");
        assert_eq!(s, "&lt;a href=&quot;x&quot;&gt;&#039;&amp;&#039;&lt;/a&gt;");
    }

    #[test]
    fn normalize_turns_cr_into_lf_and_drops_controls_and_bidi() {
        assert_eq!(
            normalize_input("a\r\nb\rc\0d\u{202e}e\u{7}\u{85}"),
            "a\nb\ncde\u{85}"
        );
        assert!(matches!(
            normalize_input("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn the_byte_scan_agrees_with_the_character_test() {
        for c in [
            '\0', '\u{7}', '\r', '\u{1f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ] {
            assert!(has_forbidden(&format!("ab{c}cd")), "{c:?}");
            assert!(is_forbidden_char(c) || c == '\r');
        }
        // Every position within and across 8-byte words.
        for n in 0..20 {
            for bad in [0u8, 1, 8, 11, 13, 31] {
                let mut v = vec![b'a'; n + 1];
                v[n] = bad;
                let s = String::from_utf8(v).unwrap_or_default();
                assert!(has_forbidden(&s), "{n} {bad}");
            }
            assert!(!has_forbidden(&"é\n\t".repeat(n)));
        }
        for ok in [
            "plain",
            "tab\tnew\nline\u{c}",
            "\u{2029}\u{202f}\u{2065}\u{206a}é記😀",
        ] {
            assert!(!has_forbidden(ok), "{ok:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_byte_scans_agree_with_the_character_tests_on_any_text(s in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{ff}\\u{2028}-\\u{206f}\\u{fff0}-\\u{ffff}\\u{1fff0}-\\u{1ffff}]{0,40}") {
            let slow = s.chars().any(|c| c == '\r' || is_forbidden_char(c));
            proptest::prop_assert_eq!(has_forbidden(&s), slow);
            let slow = s.chars().any(|c| c == '\r' || is_forbidden_in_output(c));
            proptest::prop_assert_eq!(has_forbidden_in_output(&s), slow);
            proptest::prop_assert!(!has_forbidden_in_output(&without_forbidden(&s)));
        }
    }

    #[test]
    fn names_lose_invisible_formatting_but_keep_what_scripts_need() {
        assert_eq!(visible_text("admin\u{202e}gnp.exe"), "admingnp.exe");
        assert_eq!(visible_text("ad\u{200d}min\u{200b}"), "admin");
        assert_eq!(visible_text("\u{3164}\u{2800}\u{feff}"), "");
        assert_eq!(visible_text("\u{200f}Ann\u{2066}\u{2069}"), "Ann");
        // Persian needs its zero-width non-joiner, emoji their joiners.
        assert_eq!(visible_text("می\u{200c}خواهم"), "می\u{200c}خواهم");
        assert_eq!(visible_text("👩\u{200d}💻 Jo"), "👩\u{200d}💻 Jo");
        assert_eq!(visible_text("❤\u{fe0f}"), "❤\u{fe0f}");
        assert_eq!(visible_text("a\u{fe0f}dmin"), "admin");
        assert_eq!(visible_text("Zoë"), "Zoë");
        assert!(matches!(visible_text("Zoë"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn char_refs_parse_numeric_and_named_forms() {
        assert_eq!(
            parse_char_ref("&#65;x"),
            Some(CharRef::Numeric { code: 65, len: 5 })
        );
        assert_eq!(
            parse_char_ref("&#x1F4A9;"),
            Some(CharRef::Numeric {
                code: 0x1f4a9,
                len: 9
            })
        );
        assert_eq!(parse_char_ref("&amp;"), Some(CharRef::Named { len: 5 }));
        assert_eq!(parse_char_ref("&#;"), None);
        assert_eq!(parse_char_ref("&nbsp"), None);
        assert_eq!(
            parse_char_ref("&#99999999999999999999;"),
            Some(CharRef::Numeric {
                code: u32::MAX,
                len: 23
            })
        );
    }

    #[test]
    fn decoding_drops_references_to_forbidden_code_points() {
        assert_eq!(
            decode_entities("a&#0;b&#xD800;c&#8238;d&eacute;&foo;"),
            "abcdé&foo;"
        );
    }

    #[test]
    fn entity_names_are_html4_s_and_case_sensitive() {
        assert!(HTML4_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(HTML4_NAMES.len(), 253);
        for known in [
            "&amp;", "&lt;", "&eacute;", "&Eacute;", "&THORN;", "&thorn;", "&euro;", "&apos;",
            "&hArr;",
        ] {
            assert!(lookup_named(known).is_some(), "{known}");
        }
        for unknown in [
            "&AMP;",
            "&LT;",
            "&GT;",
            "&QUOT;",
            "&Amp;",
            "&COPY;",
            "&NotEqual;",
            "&EACUTE;",
            "&nbsp",
        ] {
            assert!(lookup_named(unknown).is_none(), "{unknown}");
        }
        assert_eq!(decode_entities("&AMP; &amp; &LT;x&lt;"), "&AMP; & &LT;x<");
    }

    #[test]
    fn floor_boundary_never_splits_a_character() {
        let s = "aü";
        assert_eq!(floor_char_boundary(s, 2), 1);
        assert_eq!(floor_char_boundary(s, 3), 3);
    }
}
