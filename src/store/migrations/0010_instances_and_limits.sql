-- Servers sharing one database each hold a node number, written into the
-- ids they make so that no two servers make the same id. A claim lasts
-- while its holder renews it (`heartbeat`, ms since the Unix epoch).
CREATE TABLE instances (
    node INTEGER PRIMARY KEY,
    holder TEXT NOT NULL,
    heartbeat BIGINT NOT NULL
);

-- Rate-limit buckets shared by every server on PostgreSQL (GCRA): a
-- bucket's theoretical arrival time of its next request, in microseconds.
-- PostgreSQL keeps this table unlogged (set at start): losing it in a
-- crash only refills budgets.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    tat_us BIGINT NOT NULL
);
