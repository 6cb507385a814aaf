-- Database names are unique within an organization (as the SQLite store's code step
-- 005_database_names_per_org, which SQLite needs a table rebuild for).
ALTER TABLE databases DROP CONSTRAINT databases_name_key;
ALTER TABLE databases ADD CONSTRAINT databases_name_per_org UNIQUE (org_slug, name);
