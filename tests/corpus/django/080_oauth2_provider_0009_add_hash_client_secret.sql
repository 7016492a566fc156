-- corpus: oauth2_provider 0009_add_hash_client_secret (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Add field hash_client_secret to application
--
ALTER TABLE "oauth2_provider_application" ADD COLUMN "hash_client_secret" boolean DEFAULT true NOT NULL;
ALTER TABLE "oauth2_provider_application" ALTER COLUMN "hash_client_secret" DROP DEFAULT;
COMMIT;
