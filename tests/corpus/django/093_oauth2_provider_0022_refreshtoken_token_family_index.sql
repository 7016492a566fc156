-- corpus: oauth2_provider 0022_refreshtoken_token_family_index (django-oauth-toolkit 3.4.1)
BEGIN;
--
-- Create index oauth2_prov_token_f_996e8a_idx on field(s) token_family of model refreshtoken
--
CREATE INDEX "oauth2_prov_token_f_996e8a_idx" ON "oauth2_provider_refreshtoken" ("token_family");
COMMIT;
