-- corpus: django_celery_beat 0017_alter_crontabschedule_month_of_year (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field month_of_year on crontabschedule
--
-- (no-op)
COMMIT;
