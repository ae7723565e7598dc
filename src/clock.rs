//! Time and ids: milliseconds since the Unix epoch, their RFC 3339 form,
//! and the time-ordered ids of comments, audit entries and deliveries.

/// Ids are `(ms since 2020) << 12 | random`: time-ordered, below 2^53.
pub(crate) const ID_EPOCH_MS: i64 = 1_577_836_800_000;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-26T15:10:00.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// A fresh time-ordered id below 2^53 (comments, audit and outbox rows).
pub(crate) fn new_id(created: i64) -> i64 {
    // The low 12 bits count up from a random start, so one process never
    // repeats an id within a millisecond; across processes the random start
    // makes clashes rare, and the store refuses a taken id (we retry).
    static NEXT: std::sync::LazyLock<std::sync::atomic::AtomicU64> =
        std::sync::LazyLock::new(|| {
            std::sync::atomic::AtomicU64::new(u64::from(rand::random::<u16>()))
        });
    let low = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x0fff;
    let ms = (created - ID_EPOCH_MS).clamp(0, (1 << 41) - 1);
    (ms << 12) | i64::try_from(low).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_in_a_javascript_number_and_grow_with_time() {
        let a = new_id(now_ms());
        let b = new_id(now_ms() + 1000);
        assert!(a > 0 && a < (1 << 53));
        assert!(b > a);
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
