-- The redfly hosts (as ../007_hosts.sql).
CREATE TABLE hosts (
  id TEXT COLLATE "C" PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('all', 'control', 'region')),
  region TEXT COLLATE "C",
  address TEXT COLLATE "C" NOT NULL,
  api_url TEXT,
  gateway_port INTEGER,
  rest_port INTEGER,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  report TEXT NOT NULL DEFAULT 'null'
);
ALTER TABLE database_processes ADD COLUMN host TEXT;
