-- Every change to a comment (status, text, rendering) adds one to its
-- revision, and is written only if the revision is still the one read:
-- an author's edit, a moderator's decision and a re-render racing each
-- other can no longer undo one another.
ALTER TABLE comments ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

-- Form stamps that have been used: a stamp is good for one comment. Rows
-- are dropped once the stamp would have expired anyway.
CREATE TABLE used_stamps (
    nonce TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
);
CREATE INDEX used_stamps_by_expiry ON used_stamps (expires);
