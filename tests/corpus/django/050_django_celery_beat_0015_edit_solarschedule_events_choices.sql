-- corpus: django_celery_beat 0015_edit_solarschedule_events_choices (django-celery-beat 2.9.0)
BEGIN;
--
-- Alter field event on solarschedule
--
-- (no-op)
COMMIT;
