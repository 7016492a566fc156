-- corpus: django_celery_beat 0012_periodictask_expire_seconds (django-celery-beat 2.9.0)
BEGIN;
--
-- Add field expire_seconds to periodictask
--
ALTER TABLE "django_celery_beat_periodictask" ADD COLUMN "expire_seconds" integer NULL CHECK ("expire_seconds" >= 0);
COMMIT;
