-- The spam model's posting-speed fact: a client address's previous comment
-- on a site, found by one index probe (see store/models.rs).
CREATE INDEX comments_by_ip_hash ON comments (site, ip_hash, created);
