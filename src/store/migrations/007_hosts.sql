-- The redfly hosts (issue 11): every host process (all-in-one, control or region) keeps its
-- row current with a heartbeat; report is the JSON of what runs on it, owned by the host.
CREATE TABLE hosts (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('all', 'control', 'region')),
  region TEXT,
  address TEXT NOT NULL,
  api_url TEXT,
  gateway_port INTEGER,
  rest_port INTEGER,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  report TEXT NOT NULL DEFAULT 'null'
);
-- The host a database's copy runs on; NULL: the single host (as before hosts existed).
ALTER TABLE database_processes ADD COLUMN host TEXT;
