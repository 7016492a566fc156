-- corpus: oauth2_provider 0006_alter_application_client_secret (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Alter field client_secret on application
--
-- (no-op)
--
-- Raw Python operation
--
-- THIS OPERATION CANNOT BE WRITTEN AS SQL
COMMIT;
