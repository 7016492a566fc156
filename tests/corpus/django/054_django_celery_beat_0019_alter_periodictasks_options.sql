-- corpus: django_celery_beat 0019_alter_periodictasks_options (django-celery-beat 2.9.0)
BEGIN;
--
-- Change Meta options on periodictasks
--
-- (no-op)
COMMIT;
