-- What a database's clients set in Redis through the gateway (as ../003_redis_settings.sql).
ALTER TABLE databases ADD COLUMN redis_settings TEXT NOT NULL DEFAULT '{}';
