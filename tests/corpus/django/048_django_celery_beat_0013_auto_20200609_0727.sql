-- corpus: django_celery_beat 0013_auto_20200609_0727 (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field timezone on crontabschedule
--
-- (no-op)
COMMIT;
