-- A user's token or one made for an organization (as ../006_token_scope.sql).
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'org' CHECK (scope IN ('user', 'org'));
UPDATE tokens SET scope = 'user'
  WHERE name = 'local' AND id IN (SELECT token_id FROM token_orgs WHERE org_slug = 'personal');
