-- corpus: django_celery_results 0011_taskresult_periodic_task_name (django_celery_results 2.6.0)
BEGIN;
--
-- Add field periodic_task_name to taskresult
--
ALTER TABLE "django_celery_results_taskresult" ADD COLUMN "periodic_task_name" varchar(255) NULL;
COMMIT;
