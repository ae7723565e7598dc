-- Moderation engine: per-site rules beyond mode and link limit, the reasons
-- behind every automatic decision, reply-notification opt-in, and an audit
-- log of every decision and moderator action.

-- The site's further moderation settings as a JSON object (key lists, trust,
-- auto-close, depth and length limits, form checks, rate limits); NULL means
-- the defaults.
ALTER TABLE sites ADD COLUMN rules TEXT;

-- Why the rules decided what they did, as a JSON array of sentences.
ALTER TABLE comments ADD COLUMN reasons TEXT;
-- 1 when the author asked to be told of published replies by e-mail.
ALTER TABLE comments ADD COLUMN notify_replies BIGINT NOT NULL DEFAULT 0;

-- Trusted-author checks and privacy exports look comments up by e-mail.
CREATE INDEX comments_by_email ON comments (site, email);
-- IP-hash purges find old comments that still carry one; once purged, a
-- comment leaves this index, so it holds only the retention period.
CREATE INDEX comments_with_ip_by_created ON comments (created) WHERE ip_hash IS NOT NULL;

-- Every automatic decision and every moderator action: who, what, when, why.
-- Written in the same transaction as the change it records. `notify` is 1
-- while the notifications this event causes (webhooks, e-mails) are still to
-- be queued: the notifier claims such rows, so an event committed with its
-- comment is never missed, and a failed notification never blocks a write.
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    site TEXT NOT NULL,
    comment_id BIGINT,
    thread_key TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT,
    reasons TEXT,
    created BIGINT NOT NULL,
    notify BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX audit_by_site ON audit_log (site, created, id);
CREATE INDEX audit_by_comment ON audit_log (comment_id);
CREATE INDEX audit_to_notify ON audit_log (notify, id);
