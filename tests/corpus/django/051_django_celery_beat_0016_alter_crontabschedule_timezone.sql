-- corpus: django_celery_beat 0016_alter_crontabschedule_timezone (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field timezone on crontabschedule
--
-- (no-op)
COMMIT;
