-- Where an imported comment came from (`wordpress:123`, `disqus:456`, …):
-- importing the same export again finds it instead of storing it twice.
ALTER TABLE comments ADD COLUMN source TEXT;
-- The source id of the comment an imported comment replies to, kept until
-- that parent is found (an export may list a reply before its parent).
ALTER TABLE comments ADD COLUMN source_parent TEXT;
CREATE UNIQUE INDEX comments_by_source ON comments (site, source);
-- The article's title, as the system the thread was imported from knew it.
ALTER TABLE threads ADD COLUMN title TEXT;
