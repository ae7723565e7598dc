//! A cache of serialized thread listings.
//!
//! Comments are rendered when written, so a listing is the same bytes until
//! the thread changes. Every write that changes a thread bumps its version
//! in the database, in the same transaction; an entry is served only while
//! the version it was made for is current, which holds with several servers
//! on one database too. The cost of a cached listing is one primary-key
//! lookup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One cached answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The thread version it was made for.
    pub version: i64,
    /// The JSON body.
    pub body: Arc<Vec<u8>>,
    /// Its ETag.
    pub etag: String,
}

/// Bounded map from listing request to answer.
#[derive(Debug)]
pub struct ListingCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl ListingCache {
    /// A cache of at most `capacity` listings.
    pub fn new(capacity: usize) -> ListingCache {
        ListingCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The entry for `key` if it was made for `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<Entry> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|e| e.version == version).cloned()
    }

    /// Stores an entry; when full, starts over (simple, and a full cache of
    /// stale versions is the case it cures).
    pub fn put(&self, key: String, entry: Entry) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: i64) -> Entry {
        Entry {
            version,
            body: Arc::new(vec![1, 2]),
            etag: "\"x\"".into(),
        }
    }

    #[test]
    fn an_entry_serves_only_its_own_version() {
        let c = ListingCache::new(2);
        c.put("a".into(), entry(3));
        assert!(c.get("a", 3).is_some());
        assert!(c.get("a", 4).is_none());
        assert!(c.get("b", 3).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = ListingCache::new(2);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            c.put((*k).into(), entry(i as i64));
        }
        assert!(c.get("c", 2).is_some());
        assert!(c.entries.lock().map(|e| e.len()).unwrap_or(0) <= 2);
    }
}
