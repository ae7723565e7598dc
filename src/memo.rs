//! Short-lived in-memory copies of small, hot database answers: a site's
//! settings and a thread's published count.
//!
//! Writes made through this process update or drop the copy at once; a
//! write made by another server sharing the database is seen when the copy
//! expires (`ttl`). Listings do not use this: they are checked against the
//! thread's version on every request (see `http::cache`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A map whose entries expire.
#[derive(Debug)]
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    /// A memo keeping entries for `ttl`, at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: usize) -> Memo<K, V> {
        Memo {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    /// The value for `key`, if it is fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Stores a value.
    pub fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                let ttl = self.ttl;
                entries.retain(|_, (at, _)| at.elapsed() < ttl);
                if entries.len() >= self.capacity {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets a value (after a write that changed it).
    pub fn forget(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let m = Memo::new(Duration::from_millis(30), 10);
        m.put("a", 1);
        assert_eq!(m.get(&"a"), Some(1));
        m.forget(&"a");
        assert_eq!(m.get(&"a"), None);
        m.put("b", 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(m.get(&"b"), None);
    }

    #[test]
    fn the_memo_stays_bounded() {
        let m = Memo::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            m.put(i, i);
        }
        assert!(m.entries.lock().map(|e| e.len()).unwrap_or(0) <= 3);
        assert_eq!(m.get(&9), Some(9));
    }
}
