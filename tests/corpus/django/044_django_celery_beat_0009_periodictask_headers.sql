-- corpus: django_celery_beat 0009_periodictask_headers (django-celery-beat 2.9.0)
BEGIN;
--
-- Add field headers to periodictask
--
ALTER TABLE "django_celery_beat_periodictask" ADD COLUMN "headers" text DEFAULT '{}' NOT NULL;
ALTER TABLE "django_celery_beat_periodictask" ALTER COLUMN "headers" DROP DEFAULT;
COMMIT;
