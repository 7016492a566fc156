-- corpus: django_celery_beat 0007_auto_20180521_0826 (django-celery-beat 2.9.0)
BEGIN;
--
-- Add field one_off to periodictask
--
ALTER TABLE "django_celery_beat_periodictask" ADD COLUMN "one_off" boolean DEFAULT false NOT NULL;
ALTER TABLE "django_celery_beat_periodictask" ALTER COLUMN "one_off" DROP DEFAULT;
--
-- Add field start_time to periodictask
--
ALTER TABLE "django_celery_beat_periodictask" ADD COLUMN "start_time" timestamp with time zone NULL;
COMMIT;
