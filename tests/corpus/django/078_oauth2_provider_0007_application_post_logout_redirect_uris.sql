-- corpus: oauth2_provider 0007_application_post_logout_redirect_uris (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Add field post_logout_redirect_uris to application
--
ALTER TABLE "oauth2_provider_application" ADD COLUMN "post_logout_redirect_uris" text DEFAULT '' NOT NULL;
ALTER TABLE "oauth2_provider_application" ALTER COLUMN "post_logout_redirect_uris" DROP DEFAULT;
COMMIT;
