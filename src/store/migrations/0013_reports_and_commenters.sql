-- Reader reports and the enforcement ladder (issue 17, points 2 and 3).

-- One report per reader (`user:ID` or `ip:HASH`) and comment: the unique
-- index refuses a repeat, however many arrive at once. `weight` is the
-- report's weight in quarters of a reader, fixed when it came in (see
-- src/report.rs); `dismissed` is when a moderator dismissed it (NULL: open).
CREATE TABLE reports (
    id BIGINT PRIMARY KEY,
    site TEXT NOT NULL,
    comment_id BIGINT NOT NULL,
    reader TEXT NOT NULL,
    reason TEXT NOT NULL,
    law TEXT,
    text TEXT,
    weight BIGINT NOT NULL,
    created BIGINT NOT NULL,
    dismissed BIGINT
);
CREATE UNIQUE INDEX reports_one_per_reader ON reports (site, comment_id, reader);
CREATE INDEX reports_by_reader ON reports (site, reader);
CREATE INDEX reports_open ON reports (site, dismissed, comment_id);

-- A commenter's standing on the ladder (one row per site and key:
-- `user:ID`, `email:ADDRESS`, `ip:HASH`); `clear` deletes it. `warned` is 1
-- once a warning was shown with a post.
CREATE TABLE commenters (
    site TEXT NOT NULL,
    commenter TEXT NOT NULL,
    step TEXT NOT NULL,
    until BIGINT,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    updated BIGINT NOT NULL,
    warned BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site, commenter)
);

-- Every ladder action, clears included (the audit log has them too).
CREATE TABLE commenter_actions (
    id BIGINT PRIMARY KEY,
    site TEXT NOT NULL,
    commenter TEXT NOT NULL,
    action TEXT NOT NULL,
    until BIGINT,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created BIGINT NOT NULL
);
CREATE INDEX commenter_actions_by_key ON commenter_actions (site, commenter, id);
