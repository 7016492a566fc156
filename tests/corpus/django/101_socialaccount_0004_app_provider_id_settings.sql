-- corpus: socialaccount 0004_app_provider_id_settings (django-allauth 65.22.1)
BEGIN;
--
-- Add field provider_id to socialapp
--
ALTER TABLE "socialaccount_socialapp" ADD COLUMN "provider_id" varchar(200) DEFAULT '' NOT NULL;
ALTER TABLE "socialaccount_socialapp" ALTER COLUMN "provider_id" DROP DEFAULT;
--
-- Add field settings to socialapp
--
ALTER TABLE "socialaccount_socialapp" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;
ALTER TABLE "socialaccount_socialapp" ALTER COLUMN "settings" DROP DEFAULT;
--
-- Alter field provider on socialaccount
--
ALTER TABLE "socialaccount_socialaccount" ALTER COLUMN "provider" TYPE varchar(200);
COMMIT;
