//! Moderation key lists: words, names, URLs, e-mails or IPs that send a
//! comment to the queue (or to spam), compiled once into one matcher.
//!
//! A key is a plain word, matched case-insensitively anywhere in a field
//! ("press" matches "WordPress", as in WordPress), or a regular expression
//! written between slashes (`/\bv[i1]agra\b/`), case-insensitive too. All
//! plain words run as one Aho-Corasick automaton and all expressions as one
//! `RegexSet`, so a thousand keys cost one pass over each field.

use std::fmt;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use regex::{RegexSet, RegexSetBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most keys in one list.
pub const MAX_KEYS: usize = 10_000;
/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 500;
/// Compiled-size bound for a list's expressions, in bytes: a key list is
/// admin input, but one pathological expression must not eat the server.
const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// An ordered list of keys with its compiled matcher.
#[derive(Clone, Default)]
pub struct KeyList {
    keys: Vec<String>,
    matcher: Option<Arc<Matcher>>,
}

struct Matcher {
    words: Option<AhoCorasick>,
    /// Index into `keys` of each word pattern.
    word_keys: Vec<usize>,
    regexes: Option<RegexSet>,
    /// Index into `keys` of each expression.
    regex_keys: Vec<usize>,
}

/// Why a key list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KeyError {
    /// What is wrong, naming the key.
    pub message: String,
}

impl KeyList {
    /// Compiles a list. Blank keys are dropped; surrounding spaces trimmed.
    ///
    /// # Errors
    /// Too many or too long keys, or an expression that does not compile
    /// (or compiles too large).
    pub fn new(keys: Vec<String>) -> Result<KeyList, KeyError> {
        let keys: Vec<String> = keys
            .into_iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect();
        // Site settings are re-read every few seconds; compiling a large
        // list takes milliseconds, so an unchanged list reuses its matcher.
        if let Some(matcher) = compiled::get(&keys) {
            return Ok(KeyList {
                keys,
                matcher: Some(matcher),
            });
        }
        let list = KeyList::compile(keys)?;
        if let Some(m) = &list.matcher {
            compiled::put(&list.keys, Arc::clone(m));
        }
        Ok(list)
    }

    fn compile(keys: Vec<String>) -> Result<KeyList, KeyError> {
        if keys.len() > MAX_KEYS {
            return Err(KeyError {
                message: format!("{} keys; the limit is {MAX_KEYS}", keys.len()),
            });
        }
        let mut words = Vec::new();
        let mut word_keys = Vec::new();
        let mut regexes = Vec::new();
        let mut regex_keys = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if key.chars().count() > MAX_KEY_CHARS {
                return Err(KeyError {
                    message: format!("key {} is longer than {MAX_KEY_CHARS} characters", i + 1),
                });
            }
            match as_expression(key) {
                Some(expr) => {
                    // Compile alone first so the error names the key.
                    RegexSetBuilder::new([expr])
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| KeyError {
                            message: format!(
                                "key {} `{key}` is not a valid expression: {e}",
                                i + 1
                            ),
                        })?;
                    regexes.push(expr.to_owned());
                    regex_keys.push(i);
                }
                None => {
                    words.push(key.to_lowercase());
                    word_keys.push(i);
                }
            }
        }
        if keys.is_empty() {
            return Ok(KeyList::default());
        }
        let words_matcher = if words.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&words).map_err(|e| KeyError {
                message: format!("the word keys cannot be compiled: {e}"),
            })?)
        };
        let regex_matcher = if regexes.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&regexes)
                    .case_insensitive(true)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| KeyError {
                        message: format!("the expressions together are too large: {e}"),
                    })?,
            )
        };
        Ok(KeyList {
            keys,
            matcher: Some(Arc::new(Matcher {
                words: words_matcher,
                word_keys,
                regexes: regex_matcher,
                regex_keys,
            })),
        })
    }

    /// The keys as written (trimmed, blanks dropped).
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// True when the list has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The first key (in list order) found in `text`, if any.
    pub fn find(&self, text: &str) -> Option<&str> {
        let m = self.matcher.as_ref()?;
        if text.is_empty() {
            return None;
        }
        let mut first: Option<usize> = None;
        if let Some(ac) = &m.words {
            // Lower-case the text like the words; most comments are short.
            let lowered = text.to_lowercase();
            for hit in ac.find_overlapping_iter(&lowered) {
                let key = m.word_keys[hit.pattern().as_usize()];
                first = Some(first.map_or(key, |f| f.min(key)));
                if key == 0 {
                    break;
                }
            }
        }
        if let Some(set) = &m.regexes {
            // Most text matches nothing: a plain yes/no search is cheaper
            // than asking which expressions matched.
            if !set.is_match(text) {
                return first.map(|i| self.keys[i].as_str());
            }
            if let Some(i) = set.matches(text).iter().next() {
                let key = m.regex_keys[i];
                first = Some(first.map_or(key, |f| f.min(key)));
            }
        }
        first.map(|i| self.keys[i].as_str())
    }
}

/// Recently compiled matchers, by their exact key list.
mod compiled {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, PoisonError};

    use super::Matcher;

    /// Distinct lists kept; beyond this the cache starts over.
    const CAPACITY: usize = 256;

    static CACHE: Mutex<Option<HashMap<Vec<String>, Arc<Matcher>>>> = Mutex::new(None);

    pub(super) fn get(keys: &[String]) -> Option<Arc<Matcher>> {
        if keys.is_empty() {
            return None;
        }
        let cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        cache.as_ref()?.get(keys).cloned()
    }

    pub(super) fn put(keys: &[String], matcher: Arc<Matcher>) {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        let map = cache.get_or_insert_with(HashMap::new);
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(keys.to_vec(), matcher);
    }
}

/// `/expr/` → `expr`.
fn as_expression(key: &str) -> Option<&str> {
    let inner = key.strip_prefix('/')?.strip_suffix('/')?;
    (!inner.is_empty()).then_some(inner)
}

impl fmt::Debug for KeyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

impl PartialEq for KeyList {
    fn eq(&self, other: &KeyList) -> bool {
        self.keys == other.keys
    }
}

impl Eq for KeyList {}

impl Serialize for KeyList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.keys.serialize(s)
    }
}

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyList, D::Error> {
        let keys = Vec::<String>::deserialize(d)?;
        KeyList::new(keys).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(keys: &[&str]) -> KeyList {
        KeyList::new(keys.iter().map(|s| (*s).to_owned()).collect()).unwrap_or_default()
    }

    #[test]
    fn words_match_inside_words_and_ignore_case() {
        let l = list(&["press", "casino"]);
        assert_eq!(l.find("Made with WordPress"), Some("press"));
        assert_eq!(l.find("Best CASINO bonus"), Some("casino"));
        assert_eq!(l.find("nothing to see"), None);
    }

    #[test]
    fn non_ascii_words_fold_case() {
        let l = list(&["ÉTÉ"]);
        assert_eq!(l.find("un bel été"), Some("ÉTÉ"));
    }

    #[test]
    fn expressions_between_slashes_are_regular_expressions() {
        let l = list(&[r"/\bv[i1]agra\b/", "/^192\\.168\\./"]);
        assert_eq!(l.find("cheap V1AGRA here"), Some(r"/\bv[i1]agra\b/"));
        assert_eq!(l.find("viagrafalls"), None);
        assert_eq!(l.find("192.168.0.7"), Some("/^192\\.168\\./"));
        assert_eq!(l.find("10.192.168.1"), None);
    }

    #[test]
    fn the_first_key_in_list_order_is_reported() {
        let l = list(&["zebra", "apple", "/ap+le/"]);
        assert_eq!(l.find("apple zebra"), Some("zebra"));
        let l = list(&["/ap+le/", "apple"]);
        assert_eq!(l.find("apple"), Some("/ap+le/"));
    }

    #[test]
    fn blank_keys_are_dropped_and_keys_trimmed() {
        let l = list(&["  spam  ", "", "   "]);
        assert_eq!(l.keys(), ["spam"]);
        assert!(list(&[" "]).is_empty());
        assert_eq!(list(&[]).find("anything"), None);
    }

    #[test]
    fn a_broken_expression_is_an_error_naming_the_key() {
        let e = KeyList::new(vec!["fine".into(), "/(unclosed/".into()]).err();
        let message = e.map(|e| e.message).unwrap_or_default();
        assert!(message.starts_with("key 2 `/(unclosed/`"), "{message}");
    }

    #[test]
    fn an_expression_too_large_to_compile_is_refused() {
        let e = KeyList::new(vec![r"/\w{1000}\w{1000}\w{1000}/".into()]);
        assert!(e.is_err());
    }

    #[test]
    fn too_many_keys_are_refused() {
        let keys = (0..=MAX_KEYS).map(|i| format!("k{i}")).collect();
        assert!(KeyList::new(keys).is_err());
    }

    #[test]
    fn lists_serialize_as_their_keys() {
        let l = list(&["a", "/b+/"]);
        let json = serde_json::to_string(&l).unwrap_or_default();
        assert_eq!(json, r#"["a","/b+/"]"#);
        let back: KeyList = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, l);
        assert_eq!(back.find("bbb"), Some("/b+/"));
        assert!(serde_json::from_str::<KeyList>(r#"["/(/"]"#).is_err());
    }
}
