-- corpus: django_celery_results 0013_taskresult_django_cele_periodi_1993cf_idx (django_celery_results 2.6.0)
BEGIN;
--
-- Create index django_cele_periodi_1993cf_idx on field(s) periodic_task_name of model taskresult
--
CREATE INDEX "django_cele_periodi_1993cf_idx" ON "django_celery_results_taskresult" ("periodic_task_name");
COMMIT;
