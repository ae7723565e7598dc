-- Notification outbox: one row per delivery (a webhook POST, an e-mail),
-- written in the same transaction that clears the causing audit event's
-- `notify` flag, so an event is turned into deliveries exactly once and a
-- crash in between loses nothing. A sender delivers due rows with bounded
-- retries; rows that ran out of attempts stay as `failed` for inspection.
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    -- The audit_log row that caused it.
    event_id BIGINT NOT NULL,
    site TEXT NOT NULL,
    comment_id BIGINT,
    -- webhook | moderator_email | reply_email
    kind TEXT NOT NULL,
    -- The URL or e-mail address delivered to.
    target TEXT NOT NULL,
    -- What to send, as JSON, fixed when the event was claimed.
    payload TEXT NOT NULL,
    -- One delivery per key: a replayed event or a reply published twice
    -- queues nothing new.
    dedupe_key TEXT NOT NULL,
    -- pending | sent | failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- When a pending row is due. A sender claims a row by moving this
    -- forward (a lease): if the sender dies, the row is due again later.
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE UNIQUE INDEX outbox_dedupe ON outbox (dedupe_key);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_by_comment ON outbox (comment_id);
