-- corpus: django_celery_beat 0005_add_solarschedule_events_choices (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field event on solarschedule
--
-- (no-op)
COMMIT;
