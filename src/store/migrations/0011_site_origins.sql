-- The origins a site's pages are served from, as set through the admin API
-- (space-separated, normalized `scheme://host[:port]`, or `*`). NULL: never
-- set there, so the site's `origins` in colloquy.toml apply.
ALTER TABLE sites ADD COLUMN origins TEXT;
