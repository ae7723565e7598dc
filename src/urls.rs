//! The shapes of the server's own addresses, for whoever links to them: the
//! HTTP layer, and the notifications that put links in e-mails.

use crate::comment::{SiteId, ThreadKey};

/// `/sites/{site}/threads/{thread}` (the thread key percent-encoded).
pub fn page_path(site: &SiteId, thread: &ThreadKey) -> String {
    format!(
        "/sites/{}/threads/{}",
        path_segment(site.as_str()),
        path_segment(thread.as_str())
    )
}

/// Percent-encodes a path segment (a thread key with `/` stays one segment).
pub(crate) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_keys_stay_one_path_segment() {
        assert_eq!(path_segment("news/2026 é"), "news%2F2026%20%C3%A9");
        let site = SiteId::parse("default").expect("valid");
        let thread = ThreadKey::parse("a/b?c").expect("valid");
        assert_eq!(
            page_path(&site, &thread),
            "/sites/default/threads/a%2Fb%3Fc"
        );
    }
}
