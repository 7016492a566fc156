-- corpus: django_celery_beat 0006_periodictask_priority (django-celery-beat 2.9.0)
BEGIN;
--
-- Add field priority to periodictask
--
ALTER TABLE "django_celery_beat_periodictask" ADD COLUMN "priority" integer NULL CHECK ("priority" >= 0);
COMMIT;
