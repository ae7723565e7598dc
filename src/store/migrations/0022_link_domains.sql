-- The link domains a site has seen in its published comments, with when
-- first: the spam model's "links to N new domains" fact (see
-- service/scoring.rs).
CREATE TABLE link_domains (
    site TEXT NOT NULL,
    domain TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (site, domain)
);
