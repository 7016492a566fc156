-- corpus: oauth2_provider 0011_refreshtoken_token_family (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Add field token_family to refreshtoken
--
ALTER TABLE "oauth2_provider_refreshtoken" ADD COLUMN "token_family" uuid NULL;
COMMIT;
