-- corpus: oauth2_provider 0010_application_allowed_origins (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Add field allowed_origins to application
--
ALTER TABLE "oauth2_provider_application" ADD COLUMN "allowed_origins" text DEFAULT '' NOT NULL;
ALTER TABLE "oauth2_provider_application" ALTER COLUMN "allowed_origins" DROP DEFAULT;
COMMIT;
