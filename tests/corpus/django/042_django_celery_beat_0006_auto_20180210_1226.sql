-- corpus: django_celery_beat 0006_auto_20180210_1226 (django-celery-beat 2.9.0)
BEGIN;
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
