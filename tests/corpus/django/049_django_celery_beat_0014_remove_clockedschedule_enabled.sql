-- corpus: django_celery_beat 0014_remove_clockedschedule_enabled (django-celery-beat 2.9.0)
BEGIN;
--
-- Remove field enabled from clockedschedule
--
ALTER TABLE "django_celery_beat_clockedschedule" DROP COLUMN "enabled" CASCADE;
COMMIT;
