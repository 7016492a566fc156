-- corpus: socialaccount 0006_alter_socialaccount_extra_data (django-allauth 65.22.1)
BEGIN;
--
-- Alter field extra_data on socialaccount
--
ALTER TABLE "socialaccount_socialaccount" ALTER COLUMN "extra_data" TYPE jsonb USING "extra_data"::jsonb;
COMMIT;
