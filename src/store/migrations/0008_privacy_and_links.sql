-- Privacy and hostile traffic: e-mail addresses compared case-insensitively,
-- single-use one-click links, confirmed reply subscriptions and a
-- suppression list.

-- The address as compared: trimmed, A-Z as a-z (the same as
-- `store::normalize_email`). Every lookup by address (export, erase,
-- trusted authors, duplicates, unsubscribing) uses it, so
-- `Erin@Example.org` is the same person as `erin@example.org`.
ALTER TABLE comments ADD COLUMN email_norm TEXT;
-- Nested REPLACE lowers exactly A-Z on both backends (LOWER does more on
-- PostgreSQL, depending on its locale).
UPDATE comments SET email_norm = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(TRIM(email), 'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'), 'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'), 'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'), 'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'), 'Y', 'y'), 'Z', 'z')
WHERE email IS NOT NULL;
DROP INDEX comments_by_email;
CREATE INDEX comments_by_email ON comments (site, email_norm);

-- The normalized address an e-mail delivery goes to (NULL for webhooks),
-- so that erasing an address finds every message to it.
ALTER TABLE outbox ADD COLUMN recipient TEXT;
UPDATE outbox SET recipient = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(TRIM(target), 'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'), 'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'), 'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'), 'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'), 'Y', 'y'), 'Z', 'z')
WHERE kind <> 'webhook';
CREATE INDEX outbox_by_recipient ON outbox (recipient);
-- Delivered and failed rows, oldest first, for the retention purge.
CREATE INDEX outbox_done_by_created ON outbox (created) WHERE state <> 'pending';

-- Nonces of the one-click moderation links that have been used: recorded
-- in the transaction that acts, so a link (and every other link of the
-- same e-mail) works once. Kept until the link would have expired.
CREATE TABLE used_links (
    nonce TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    comment_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    used_at BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX used_links_by_expiry ON used_links (expires);

-- Reply e-mails per site and address, under a keyed hash of the normalized
-- address (the address itself is not kept here): `confirmed` once its
-- owner followed the link of a confirmation e-mail, `suppressed` once they
-- unsubscribed. A suppressed address gets no e-mail at all, and no later
-- post changes that.
CREATE TABLE reply_subscriptions (
    site TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    changed BIGINT NOT NULL,
    PRIMARY KEY (site, address_hash)
);
