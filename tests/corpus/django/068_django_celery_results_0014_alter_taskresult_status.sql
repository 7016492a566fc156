-- corpus: django_celery_results 0014_alter_taskresult_status (django_celery_results 2.6.0)
BEGIN;
--
-- Alter field status on taskresult
--
-- (no-op)
COMMIT;
