-- A thread's canonical address (the article's page), beside the title
-- imports already keep: from the embed, the admin API or an import.
ALTER TABLE threads ADD COLUMN url TEXT;
