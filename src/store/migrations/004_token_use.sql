-- When a token last authenticated a request (shown by `redfly tokens list`); NULL: never used.
-- Written at most once a minute per token, so reads do not turn into a write each.
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
