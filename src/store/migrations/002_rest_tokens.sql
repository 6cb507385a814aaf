-- The REST API's two tokens per database (the hosted service's rest_token and
-- read_only_rest_token): stored with the record, rotated together with the password.
-- Databases created before get theirs here; '' never matches a request.
ALTER TABLE databases ADD COLUMN rest_token TEXT NOT NULL DEFAULT '';
ALTER TABLE databases ADD COLUMN read_only_rest_token TEXT NOT NULL DEFAULT '';
UPDATE databases SET
  rest_token = 'rfr_' || lower(hex(randomblob(22))),
  read_only_rest_token = 'rfro_' || lower(hex(randomblob(22)));
