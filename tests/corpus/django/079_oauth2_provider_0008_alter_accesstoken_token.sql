-- corpus: oauth2_provider 0008_alter_accesstoken_token (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Alter field token on accesstoken
--
-- (no-op)
COMMIT;
