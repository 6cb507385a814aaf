-- Whether a token is a user's (it may create organizations and so gain them) or was made for one
-- organization by POST /v1/orgs/{slug}/tokens (it may never widen its scope). Issue 10 first told
-- them apart by an "rfo_" secret prefix, which tokens made before it lack; the record says it now.
-- Until now the only user token was the one the first start makes for local-credentials.json
-- ("local", with the personal organization); every other token was made for an organization.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'org' CHECK (scope IN ('user', 'org'));
UPDATE tokens SET scope = 'user'
  WHERE name = 'local' AND id IN (SELECT token_id FROM token_orgs WHERE org_slug = 'personal');
