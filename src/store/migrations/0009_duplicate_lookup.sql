-- The duplicate check looks a new comment's text up by a hash of it within
-- its thread: one short index range, however many comments the thread has
-- had lately (it scanned every recent comment of the thread before).
-- Comments written before this migration have no hash; they leave the
-- duplicate window within a day.
ALTER TABLE comments ADD COLUMN body_hash TEXT;
CREATE INDEX comments_by_body ON comments (site, thread_key, body_hash, created);
