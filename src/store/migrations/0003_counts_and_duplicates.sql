-- Published-comment count per thread, kept in the same transactions as the
-- writes that change it, so counting many threads is a primary-key lookup.
ALTER TABLE threads ADD COLUMN published BIGINT NOT NULL DEFAULT 0;
UPDATE threads SET published = (
    SELECT COUNT(*) FROM comments
    WHERE comments.site = threads.site AND comments.thread_key = threads.thread_key
      AND comments.status = 'published'
);

-- The same poster's same text in the same thread within this many seconds
-- is refused as a duplicate; 0 turns the check off.
ALTER TABLE sites ADD COLUMN duplicate_window_secs BIGINT NOT NULL DEFAULT 600;
