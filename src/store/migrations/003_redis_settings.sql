-- What a database's clients set in Redis itself through the gateway and that must survive a
-- restart of its redis-servers: JSON {"aclUsers": [ACL LIST lines of the database's own users],
-- "notifyKeyspaceEvents": "Ex"}. Rendered into every copy's redis.conf at each start.
ALTER TABLE databases ADD COLUMN redis_settings TEXT NOT NULL DEFAULT '{}';
