-- When a token last authenticated a request (as ../004_token_use.sql).
ALTER TABLE tokens ADD COLUMN last_used_at TEXT COLLATE "C";
