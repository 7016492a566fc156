-- corpus: django_celery_results 0012_taskresult_date_started (django_celery_results 2.6.0)
BEGIN;
--
-- Add field date_started to taskresult
--
ALTER TABLE "django_celery_results_taskresult" ADD COLUMN "date_started" timestamp with time zone NULL;
COMMIT;
