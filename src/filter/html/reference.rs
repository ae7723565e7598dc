//! Each tag read afresh from its `<`, the simple way (quadratic on floods).

use super::BARE_ATTRIBUTES;

/// Where the tag starting at `s` ends: `(length, ended_with_gt)`. Quoted
/// attribute values may contain `>`; when a quote is never closed, the tag
/// ends at the first `>` instead (as Drupal reads it); with no `>` at all it
/// runs to the end of the input.
pub(super) fn tag_extent(s: &str, from: usize) -> (usize, bool) {
    let b = s.as_bytes();
    let mut i = from;
    let mut after_equals = false;
    while i < b.len() {
        match b[i] {
            b'>' => return (i + 1, true),
            b'=' => {
                after_equals = true;
                i += 1;
                continue;
            }
            q @ (b'"' | b'\'') if after_equals => match memchr::memchr(q, &b[i + 1..]) {
                Some(close) => i += close + 2,
                None => break,
            },
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => i += 1,
        }
        after_equals = false;
    }
    match memchr::memchr(b'>', &b[from..]) {
        Some(gt) => (from + gt + 1, true),
        None => (s.len(), false),
    }
}

/// One attribute as written; `value` is `None` when it was malformed.
pub(super) struct Attr<'a> {
    pub(super) name: String,
    pub(super) value: Option<std::borrow::Cow<'a, str>>,
    pub(super) bare: bool,
}

impl Attr<'_> {
    /// Would real markup carry this attribute? (See [`BARE_ATTRIBUTES`].)
    pub(super) fn is_plausible(&self) -> bool {
        !self.bare
            || BARE_ATTRIBUTES.contains(&self.name.as_str())
            || self.name.starts_with("data-")
            || self.name.starts_with("aria-")
            || self.name.starts_with("on")
    }
}

/// Reads attributes like Drupal's attribute scanner, but with quoted values
/// allowed to hold anything. Malformed pieces are skipped to the next space.
pub(super) fn parse_attributes(s: &str) -> Vec<Attr<'_>> {
    // Drupal first cuts a final `/` (and the spaces after it) off.
    let cut = s.trim_end_matches(|c: char| c.is_ascii_whitespace());
    let s = cut.strip_suffix('/').unwrap_or(s);
    let b = s.as_bytes();
    // The end, a `>` (inside a tag only where a quoted value held it),
    // or a `/` with nothing but spaces after it.
    let at_end = |k: usize| match b.get(k) {
        None | Some(b'>') => true,
        Some(b'/') => {
            let mut m = k + 1;
            while b.get(m).is_some_and(u8::is_ascii_whitespace) {
                m += 1;
            }
            matches!(b.get(m), None | Some(b'>'))
        }
        Some(_) => false,
    };
    let space_or_end = |k: usize| b.get(k).is_none_or(u8::is_ascii_whitespace) || at_end(k);
    // Junk: quoted strings and other non-space characters, to a space.
    let skip_junk = |mut k: usize| {
        while k < b.len() && !b[k].is_ascii_whitespace() {
            if b[k] == b'"' || b[k] == b'\'' {
                k = memchr::memchr(b[k], &b[k + 1..]).map_or(b.len(), |c| k + c + 2);
            } else {
                k += 1;
            }
        }
        k
    };
    let mut attrs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if at_end(i) {
            break;
        }
        if !(c.is_ascii_alphabetic() || c == b'_' || c == b'-') {
            i = skip_junk(i);
            attrs.push(Attr {
                name: String::new(),
                value: None,
                bare: true,
            });
            continue;
        }
        let start = i;
        while i < b.len()
            && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'_' | b':' | b'.'))
        {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if b.get(j) != Some(&b'=') {
            let glued = j == i && !at_end(j);
            attrs.push(Attr {
                name,
                value: (!glued).then(|| "".into()),
                bare: true,
            });
            if glued {
                i = skip_junk(i);
            }
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        match b.get(j) {
            Some(&q @ (b'"' | b'\'')) => match memchr::memchr(q, &b[j + 1..]) {
                Some(close) if space_or_end(j + close + 2) => {
                    attrs.push(Attr {
                        name,
                        value: Some(s[j + 1..j + 1 + close].into()),
                        bare: false,
                    });
                    i = j + close + 2;
                }
                Some(_) => {
                    attrs.push(Attr {
                        name,
                        value: None,
                        bare: false,
                    });
                    i = skip_junk(j);
                }
                None => {
                    attrs.push(Attr {
                        name,
                        value: None,
                        bare: false,
                    });
                    i = b.len();
                }
            },
            Some(_) => {
                let v_start = j;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'"' && b[j] != b'\'' {
                    j += 1;
                }
                let value = if space_or_end(j) {
                    Some(s[v_start..j].into())
                } else {
                    j = skip_junk(v_start);
                    None
                };
                attrs.push(Attr {
                    name,
                    value,
                    bare: false,
                });
                i = j;
            }
            None => {
                attrs.push(Attr {
                    name,
                    value: None,
                    bare: false,
                });
                i = j;
            }
        }
    }
    attrs
}
