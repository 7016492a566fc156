-- corpus: django_celery_results 0006_taskresult_date_created (django_celery_results 2.6.0)
BEGIN;
--
-- Add field date_created to taskresult
--
ALTER TABLE "django_celery_results_taskresult" ADD COLUMN "date_created" timestamp with time zone DEFAULT '2026-12-07 23:15:56.838564+00:00'::timestamptz NOT NULL;
ALTER TABLE "django_celery_results_taskresult" ALTER COLUMN "date_created" DROP DEFAULT;
--
-- Raw Python operation
--
-- THIS OPERATION CANNOT BE WRITTEN AS SQL
CREATE INDEX "django_celery_results_taskresult_date_created_099f3424" ON "django_celery_results_taskresult" ("date_created");
COMMIT;
