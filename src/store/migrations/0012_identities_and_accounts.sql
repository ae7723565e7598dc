-- Readers the site signs in, and moderator accounts.

-- The site's id for the signed-in reader who wrote a comment (NULL for
-- anonymous and imported comments): the comment is "verified", and its
-- author may edit it through the identity instead of an edit token.
ALTER TABLE comments ADD COLUMN author_id TEXT;
CREATE INDEX comments_by_author_id ON comments (site, author_id);

-- The usernames signed-in readers have posted under, by the name's folded
-- form (case, width, accents and look-alike letters removed), so an
-- anonymous comment cannot take one of them.
CREATE TABLE site_users (
    site TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    name_key TEXT NOT NULL,
    seen BIGINT NOT NULL,
    PRIMARY KEY (site, user_id)
);
CREATE INDEX site_users_by_name ON site_users (site, name_key);

-- Moderator and admin accounts of a site, with argon2 password hashes.
CREATE TABLE accounts (
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (site, name)
);

-- Sessions issued at login: the SHA-256 digest of the token only.
CREATE TABLE sessions (
    digest TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    account TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (site, account);
