-- corpus: oauth2_provider 0003_auto_20201211_1314 (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Alter field redirect_uri on grant
--
ALTER TABLE "oauth2_provider_grant" ALTER COLUMN "redirect_uri" TYPE text USING "redirect_uri"::text;
COMMIT;
