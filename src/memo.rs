//! Short-lived in-memory copies of small, hot database answers: a site's
//! settings and a thread's published count.
//!
//! Writes made through this process update or drop the copy at once; a
//! write made by another server sharing the database is seen when the copy
//! expires (`ttl`). Listings do not use this: they are checked against the
//! thread's version on every request (see `http::cache`).
//!
//! Each memo is bounded in bytes, not entries (a count is a few bytes, a
//! site's settings with long key lists many kilobytes): when full, the
//! entries least likely to be asked for again go first (`moka`).

use std::hash::Hash;
use std::time::Duration;

use crate::site::SiteSettings;

/// What one entry costs beyond its own bytes: the map's slot, the
/// eviction queues' nodes and their counters (an estimate, on the high
/// side).
pub const ENTRY_OVERHEAD: usize = 160;

/// Heap and inline bytes of a value, approximately, for the byte bounds.
pub trait Weigh {
    /// Bytes this value holds.
    fn weigh(&self) -> usize;
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        std::mem::size_of::<String>() + self.len()
    }
}

impl Weigh for i64 {
    fn weigh(&self) -> usize {
        std::mem::size_of::<i64>()
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh()
    }
}

impl Weigh for SiteSettings {
    fn weigh(&self) -> usize {
        // The key lists' compiled matchers are shared with every copy of
        // the rules (and bounded where they are compiled); their texts are
        // this entry's.
        let texts = |list: &[String]| list.iter().map(Weigh::weigh).sum::<usize>();
        std::mem::size_of::<SiteSettings>()
            + self.id.len()
            + self.default_format.len()
            + texts(&self.formats)
            + self.origins.as_deref().map_or(0, texts)
            + texts(self.rules.moderation_keys.keys())
            + texts(self.rules.disallowed_keys.keys())
    }
}

/// A map whose entries expire, at most `max_bytes` in all.
pub struct Memo<K, V> {
    entries: moka::sync::Cache<K, V>,
    /// Bumped by every forget: a value read from the database before a
    /// write that changed it must not be stored after the write forgot the
    /// old one (it would be served stale until it expires).
    generation: std::sync::atomic::AtomicU64,
}

impl<K, V> std::fmt::Debug for Memo<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("bytes", &self.entries.weighted_size())
            .finish_non_exhaustive()
    }
}

impl<K, V> Memo<K, V>
where
    K: Eq + Hash + Weigh + Send + Sync + 'static,
    V: Clone + Weigh + Send + Sync + 'static,
{
    /// A memo keeping entries for `ttl`, at most `max_bytes` of them.
    pub fn new(ttl: Duration, max_bytes: u64) -> Memo<K, V> {
        Memo {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &K, v: &V| {
                    u32::try_from(k.weigh() + v.weigh() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build(),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Where the memo stands; take it before reading what [`Memo::put_since`]
    /// will store.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Stores a value read after [`Memo::generation`] gave `since`, unless
    /// something was forgotten meanwhile (the value may predate that write).
    pub fn put_since(&self, since: u64, key: K, value: V) {
        if self.generation() == since {
            self.put(key, value);
        }
    }

    /// The value for `key`, if it is fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        self.entries.get(key)
    }

    /// Stores a value. Eviction runs at once, so the bound holds at every
    /// moment, not eventually.
    pub fn put(&self, key: K, value: V) {
        self.entries.insert(key, value);
        self.entries.run_pending_tasks();
    }

    /// Forgets a value (after a write that changed it).
    pub fn forget(&self, key: &K) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.entries.invalidate(key);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// Bytes held now, as weighed.
    pub fn bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let m: Memo<String, i64> = Memo::new(Duration::from_millis(30), 1 << 20);
        m.put("a".into(), 1);
        assert_eq!(m.get(&"a".into()), Some(1));
        m.forget(&"a".into());
        assert_eq!(m.get(&"a".into()), None);
        m.put("b".into(), 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(m.get(&"b".into()), None);
    }

    #[test]
    fn a_value_read_before_a_write_is_not_kept_after_it() {
        let m: Memo<String, i64> = Memo::new(Duration::from_secs(60), 1 << 20);
        let since = m.generation();
        // ... the count is read (1), then a post lands and forgets it ...
        m.forget(&"t".into());
        m.put_since(since, "t".into(), 1);
        assert_eq!(m.get(&"t".into()), None, "the stale count was not kept");
        let since = m.generation();
        m.put_since(since, "t".into(), 2);
        assert_eq!(m.get(&"t".into()), Some(2));
    }

    #[test]
    fn the_memo_stays_within_its_bytes() {
        let max = 64 * 1024;
        let m: Memo<(String, String), i64> = Memo::new(Duration::from_secs(60), max);
        // Long thread keys, as a caller asking counts for made-up threads
        // would send: far more than fit.
        for i in 0..5_000 {
            m.put(("site".into(), format!("{i}-{}", "x".repeat(200))), i);
            assert!(m.bytes() <= max, "{} > {max}", m.bytes());
        }
        assert!(m.bytes() > max / 2, "the memo is used: {}", m.bytes());
    }
}
