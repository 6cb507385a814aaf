-- Records of the control plane in PostgreSQL: the same tables, columns and versions as the
-- SQLite store (../001_initial.sql and on). Timestamps are ISO-8601 UTC strings with
-- milliseconds, as there; the key columns are COLLATE "C" so that text order is byte order
-- (keyset pagination relies on it) whatever the database's locale.

CREATE TABLE organizations (
  slug TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('personal', 'shared')),
  cache_password TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  -- only a SHA-256 of the secret is kept: a leaked database does not leak usable tokens
  secret_sha256 TEXT NOT NULL UNIQUE,
  created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE token_orgs (
  token_id TEXT COLLATE "C" NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  org_slug TEXT COLLATE "C" NOT NULL REFERENCES organizations(slug) ON DELETE CASCADE,
  PRIMARY KEY (token_id, org_slug)
);
CREATE INDEX token_orgs_by_org ON token_orgs(org_slug);

CREATE TABLE databases (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  org_slug TEXT COLLATE "C" NOT NULL REFERENCES organizations(slug),
  plan TEXT NOT NULL,
  primary_region TEXT NOT NULL,
  read_regions TEXT NOT NULL DEFAULT '[]', -- JSON array of region codes (the desired set)
  eviction BOOLEAN NOT NULL DEFAULT FALSE,
  status TEXT NOT NULL CHECK (status IN ('provisioning', 'ready', 'updating', 'deleting', 'failed')),
  status_message TEXT,
  password TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  CONSTRAINT databases_name_key UNIQUE (name)
);
CREATE INDEX databases_page_by_org ON databases(org_slug, created_at, id);
CREATE INDEX databases_page ON databases(created_at, id);

CREATE TABLE database_processes (
  database_id TEXT COLLATE "C" NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
  region TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('primary', 'replica')),
  port INTEGER NOT NULL,
  PRIMARY KEY (database_id, region)
);

CREATE TABLE idempotency_keys (
  key TEXT NOT NULL,
  token_id TEXT COLLATE "C" NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  request_sha256 TEXT NOT NULL,
  database_id TEXT COLLATE "C" NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (key, token_id)
);
