-- Statements of reasons (issue 17, point 6; DSA arts. 17, 20, 24): one per
-- removal or restriction of a comment, kept when the comment is deleted
-- (so it carries the comment's edit token hash, by which its author reads
-- it), with the author's one appeal and what closed it.
CREATE TABLE statements (
    id BIGINT PRIMARY KEY,
    site TEXT NOT NULL,
    comment_id BIGINT NOT NULL,
    thread_key TEXT NOT NULL,
    decision TEXT NOT NULL,
    facts TEXT NOT NULL,
    ground TEXT NOT NULL,
    automated BIGINT NOT NULL,
    redress TEXT NOT NULL,
    actor TEXT NOT NULL,
    began BIGINT NOT NULL,
    created BIGINT NOT NULL,
    edit_token_hash TEXT,
    author_key TEXT,
    appeal_text TEXT,
    appealed BIGINT,
    appeal_closed BIGINT,
    appeal_outcome TEXT
);
CREATE INDEX statements_by_comment ON statements (site, comment_id, created);
CREATE INDEX statements_by_site ON statements (site, created);
CREATE INDEX statements_appealed ON statements (site, appealed) WHERE appealed IS NOT NULL AND appeal_closed IS NULL;
