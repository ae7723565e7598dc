-- Bumped in the same transaction as every write that changes what a
-- thread's listing shows, so cached listings can be checked with one
-- primary-key lookup, correctly even with several servers on one database.
ALTER TABLE threads ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
