-- corpus: django_celery_results 0004_auto_20190516_0412 (django_celery_results 2.6.0)
BEGIN;
--
-- Alter field content_encoding on taskresult
--
-- (no-op)
--
-- Alter field content_type on taskresult
--
-- (no-op)
--
-- Alter field date_done on taskresult
--
CREATE INDEX "django_celery_results_taskresult_date_done_49edada6" ON "django_celery_results_taskresult" ("date_done");
--
-- Alter field hidden on taskresult
--
-- (no-op)
--
-- Alter field meta on taskresult
--
-- (no-op)
--
-- Alter field result on taskresult
--
-- (no-op)
--
-- Alter field status on taskresult
--
CREATE INDEX "django_celery_results_taskresult_status_cbbed23a" ON "django_celery_results_taskresult" ("status");
CREATE INDEX "django_celery_results_taskresult_status_cbbed23a_like" ON "django_celery_results_taskresult" ("status" varchar_pattern_ops);
--
-- Alter field task_args on taskresult
--
-- (no-op)
--
-- Alter field task_id on taskresult
--
-- (no-op)
--
-- Alter field task_kwargs on taskresult
--
-- (no-op)
--
-- Alter field task_name on taskresult
--
CREATE INDEX "django_celery_results_taskresult_task_name_90987df3" ON "django_celery_results_taskresult" ("task_name");
CREATE INDEX "django_celery_results_taskresult_task_name_90987df3_like" ON "django_celery_results_taskresult" ("task_name" varchar_pattern_ops);
--
-- Alter field traceback on taskresult
--
-- (no-op)
COMMIT;
