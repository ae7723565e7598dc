-- Votes and pins (issue 17, point 4). A comment carries its vote counts
-- and `best_rank`, minus the Wilson lower bound of its upvote share (times
-- 1e9, an integer so listing cursors compare it exactly; negated so that
-- `best` reads ascending like the other orders and a page seeks to its
-- cursor with one row comparison), written with each vote in the same
-- transaction; `pinned` puts it first in every order.
ALTER TABLE comments ADD COLUMN upvotes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN downvotes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN best_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN pinned BIGINT NOT NULL DEFAULT 0;

-- One vote per reader (`user:…` or `ip:…`) and comment; taking a vote back
-- deletes its row.
CREATE TABLE votes (
    comment_id BIGINT NOT NULL,
    reader_key TEXT NOT NULL,
    value BIGINT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (comment_id, reader_key)
);

-- Listings: pinned first, then by time or score, each order one index scan
-- with no sort, a page seeking to its cursor: oldest reads the first
-- forward, newest the second backward, best the third forward.
CREATE INDEX comments_by_thread_oldest ON comments (site, thread_key, status, pinned DESC, created, id);
CREATE INDEX comments_by_thread_newest ON comments (site, thread_key, status, pinned, created, id);
CREATE INDEX comments_by_thread_best ON comments (site, thread_key, status, pinned DESC, best_rank, created, id);
