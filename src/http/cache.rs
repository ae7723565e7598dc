//! A cache of serialized thread listings.
//!
//! Comments are rendered when written, so a listing is the same bytes until
//! the thread changes. Every write that changes a thread bumps its version
//! in the database, in the same transaction; an entry is served only while
//! the version it was made for is current, which holds with several servers
//! on one database too. The cost of a cached listing is one primary-key
//! lookup.
//!
//! Two things keep it bounded whatever callers send: only the first page
//! of a listing is kept (what embeds and pages ask for; a `cursor` is any
//! string a caller likes, so pages after the first would let them fill the
//! cache with pages nobody else reads), and the whole cache is bounded in
//! bytes (`limits.listing_cache_bytes`), the least useful entries going
//! first when it is full.

use axum::body::Bytes;

use crate::memo::ENTRY_OVERHEAD;

/// One cached answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The thread version it was made for.
    pub version: i64,
    /// The JSON body, shared by every answer made from it (a large page
    /// is not copied per request).
    pub body: Bytes,
    /// Its ETag.
    pub etag: String,
}

/// Map from listing request to answer, bounded in bytes.
pub struct ListingCache {
    entries: moka::sync::Cache<String, Entry>,
    max_bytes: u64,
}

impl std::fmt::Debug for ListingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListingCache")
            .field("bytes", &self.entries.weighted_size())
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl ListingCache {
    /// A cache of at most `max_bytes` of listings (0: caches nothing).
    pub fn new(max_bytes: u64) -> ListingCache {
        ListingCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, e: &Entry| {
                    let bytes = key.len() + e.body.len() + e.etag.len() + ENTRY_OVERHEAD;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .build(),
            max_bytes,
        }
    }

    /// The key of a listing, when it is one worth keeping: the first page
    /// of a thread in one order and page size. `None` for later pages.
    pub fn key(
        site: &str,
        thread: &str,
        order: &str,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Option<String> {
        if cursor.is_some() {
            return None;
        }
        Some(format!("{site}\u{0}{thread}\u{0}{order}\u{0}{limit:?}"))
    }

    /// The entry for `key` if it was made for `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<Entry> {
        self.entries.get(key).filter(|e| e.version == version)
    }

    /// Stores an entry. Eviction runs at once, so the bound holds at every
    /// moment, not eventually.
    pub fn put(&self, key: String, entry: Entry) {
        self.entries.insert(key, entry);
        self.entries.run_pending_tasks();
    }

    /// Bytes held now, as weighed.
    pub fn bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }

    /// The most bytes it holds.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: i64, size: usize) -> Entry {
        Entry {
            version,
            body: Bytes::from(vec![b'x'; size]),
            etag: "\"x\"".into(),
        }
    }

    #[test]
    fn an_entry_serves_only_its_own_version() {
        let c = ListingCache::new(1 << 20);
        c.put("a".into(), entry(3, 2));
        assert!(c.get("a", 3).is_some());
        assert!(c.get("a", 4).is_none());
        assert!(c.get("b", 3).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let max = 1 << 20;
        let c = ListingCache::new(max);
        for i in 0..200 {
            c.put(format!("k{i}"), entry(i, 50_000));
            assert!(c.bytes() <= max, "{} > {max}", c.bytes());
        }
        assert!(c.bytes() > max / 2, "the cache is used: {}", c.bytes());
    }

    #[test]
    fn only_first_pages_have_a_key() {
        let first = ListingCache::key("s", "t", "Oldest", Some(20), None);
        assert!(first.is_some());
        assert_ne!(first, ListingCache::key("s", "t", "Newest", Some(20), None));
        assert_eq!(
            ListingCache::key("s", "t", "Oldest", Some(20), Some("MTcwMC4x")),
            None
        );
    }
}
