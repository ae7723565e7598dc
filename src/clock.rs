//! Time and ids: milliseconds since the Unix epoch, their RFC 3339 form,
//! and the time-ordered ids of comments, audit entries and deliveries.

/// Ids are `(ms since 2020) << 12 | node << 6 | sequence`: time-ordered,
/// below 2^53 (exact in JavaScript), unique across the servers sharing a
/// database as long as each holds its own node number.
pub(crate) const ID_EPOCH_MS: i64 = 1_577_836_800_000;

/// Node numbers a database hands out (6 bits).
pub const NODES: u16 = 64;

/// Ids one process makes per millisecond before borrowing from the next.
const SEQUENCE_BITS: u32 = 6;

/// This process's node number (see [`set_node`]).
static NODE: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// The last tick handed out: `ms << SEQUENCE_BITS | sequence`.
static LAST_TICK: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Sets the node number this process writes into its ids (claimed from the
/// database at start, so no two live servers share one).
pub fn set_node(node: u16) {
    NODE.store(node % NODES, std::sync::atomic::Ordering::Relaxed);
}

/// The node number in this process's ids.
pub fn node() -> u16 {
    NODE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The node number an id was made by.
pub fn node_of(id: i64) -> u16 {
    u16::try_from((id >> SEQUENCE_BITS) & i64::from(NODES - 1)).unwrap_or(0)
}

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

/// A date as a command line gives it, in ms since the epoch: RFC 3339
/// (`2026-11-26T15:10:00Z`) as it is, or a day (`2026-11-26`, UTC) — its
/// start, or with `end_of_day` the start of the next day (so `--to DAY`
/// includes that day).
pub fn parse_date(s: &str, end_of_day: bool) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(s, &f).ok()?;
    let day = if end_of_day { day.next_day()? } else { day };
    let t = day.midnight().assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A fresh time-ordered id below 2^53 (comments, audit and outbox rows).
///
/// Ids of one process strictly increase: a tick is taken per id, and more
/// than 64 ids in one millisecond borrow the next millisecond's ticks
/// rather than repeat one. The node number keeps servers apart.
pub(crate) fn new_id(created: i64) -> i64 {
    use std::sync::atomic::Ordering;
    let ms = (created - ID_EPOCH_MS).clamp(0, (1 << 41) - 1);
    let earliest = ms << SEQUENCE_BITS;
    let mut last = LAST_TICK.load(Ordering::Relaxed);
    let tick = loop {
        let next = (last + 1).max(earliest);
        match LAST_TICK.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    let sequence = tick & ((1 << SEQUENCE_BITS) - 1);
    let tick_ms = (tick >> SEQUENCE_BITS).min((1 << 41) - 1);
    (tick_ms << 12) | (i64::from(node()) << SEQUENCE_BITS) | sequence
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
    fn ids_never_repeat_in_a_burst_and_carry_the_node() {
        set_node(5);
        let now = now_ms();
        // Far more ids than one millisecond holds, all for the same instant.
        let ids: Vec<i64> = (0..10_000).map(|_| new_id(now)).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "an id repeated");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids went backwards");
        assert!(ids.iter().all(|&id| node_of(id) == 5 && id < (1 << 53)));
        set_node(0);
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
