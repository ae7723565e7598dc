-- One schema for SQLite and PostgreSQL: portable types only, ids made by
-- the application, times as integer milliseconds since the Unix epoch.

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    formats TEXT NOT NULL,
    default_format TEXT NOT NULL,
    moderation TEXT NOT NULL,
    hold_links BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);

CREATE TABLE threads (
    site TEXT NOT NULL REFERENCES sites (id),
    thread_key TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (site, thread_key)
);

CREATE TABLE comments (
    id BIGINT PRIMARY KEY,
    site TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    parent BIGINT,
    status TEXT NOT NULL,
    prior_status TEXT,
    format TEXT NOT NULL,
    body TEXT NOT NULL,
    html TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    author TEXT,
    email TEXT,
    homepage TEXT,
    ip_hash TEXT,
    edit_token_hash TEXT,
    created BIGINT NOT NULL,
    modified BIGINT,
    FOREIGN KEY (site, thread_key) REFERENCES threads (site, thread_key)
);

-- Listing a thread reads one contiguous index range, whatever the table size.
CREATE INDEX comments_by_thread ON comments (site, thread_key, status, created, id);
-- The moderation queue, newest first, per status.
CREATE INDEX comments_by_status ON comments (site, status, created, id);
CREATE INDEX comments_by_parent ON comments (parent);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
