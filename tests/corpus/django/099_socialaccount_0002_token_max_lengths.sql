-- corpus: socialaccount 0002_token_max_lengths (django-allauth 65.22.1)
BEGIN;
--
-- Alter field uid on socialaccount
--
-- (no-op)
--
-- Alter field client_id on socialapp
--
ALTER TABLE "socialaccount_socialapp" ALTER COLUMN "client_id" TYPE varchar(191);
--
-- Alter field key on socialapp
--
ALTER TABLE "socialaccount_socialapp" ALTER COLUMN "key" TYPE varchar(191);
--
-- Alter field secret on socialapp
--
ALTER TABLE "socialaccount_socialapp" ALTER COLUMN "secret" TYPE varchar(191);
COMMIT;
