-- corpus: django_celery_beat 0018_improve_crontab_helptext (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field day_of_week on crontabschedule
--
-- (no-op)
COMMIT;
