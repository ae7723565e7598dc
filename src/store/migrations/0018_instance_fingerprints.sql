-- Each live server's shared settings beside its node number, so a server
-- starting with other text formats or notification settings than its
-- peers can tell (see config/fingerprint.rs). Empty: a server that did not
-- store one (an older version); it is not compared.
ALTER TABLE instances ADD COLUMN policies TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN notifications TEXT NOT NULL DEFAULT '';
