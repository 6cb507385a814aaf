-- The REST API's two tokens per database (as ../002_rest_tokens.sql). A PostgreSQL store is
-- created at once up to the latest version, so no database row exists before this step: no
-- backfill is needed ('' never matches a request).
ALTER TABLE databases ADD COLUMN rest_token TEXT NOT NULL DEFAULT '';
ALTER TABLE databases ADD COLUMN read_only_rest_token TEXT NOT NULL DEFAULT '';
