-- corpus: django_celery_beat 0006_auto_20180322_0932 (django-celery-beat 2.9.0)
BEGIN;
--
-- Change Meta options on crontabschedule
--
-- (no-op)
--
-- Add field timezone to crontabschedule
--
ALTER TABLE "django_celery_beat_crontabschedule" ADD COLUMN "timezone" varchar(63) DEFAULT 'UTC' NOT NULL;
ALTER TABLE "django_celery_beat_crontabschedule" ALTER COLUMN "timezone" DROP DEFAULT;
--
-- Alter field day_of_month on crontabschedule
--
ALTER TABLE "django_celery_beat_crontabschedule" ALTER COLUMN "day_of_month" TYPE varchar(124);
--
-- Alter field hour on crontabschedule
--
ALTER TABLE "django_celery_beat_crontabschedule" ALTER COLUMN "hour" TYPE varchar(96);
--
-- Alter field minute on crontabschedule
--
ALTER TABLE "django_celery_beat_crontabschedule" ALTER COLUMN "minute" TYPE varchar(240);
COMMIT;
