-- corpus: django_celery_results 0007_remove_taskresult_hidden (django_celery_results 2.6.0)
BEGIN;
--
-- Remove field hidden from taskresult
--
ALTER TABLE "django_celery_results_taskresult" DROP COLUMN "hidden" CASCADE;
COMMIT;
