-- corpus: django_celery_results 0003_auto_20181106_1101 (django_celery_results 2.6.0)
BEGIN;
--
-- Change Meta options on taskresult
--
-- (no-op)
COMMIT;
