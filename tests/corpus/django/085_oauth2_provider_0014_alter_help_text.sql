-- corpus: oauth2_provider 0014_alter_help_text (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Alter field client_secret on application
--
-- (no-op)
COMMIT;
