-- corpus: django_celery_beat 0004_auto_20170221_0000 (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field longitude on solarschedule
--
-- (no-op)
COMMIT;
