-- corpus: django_celery_beat 0003_auto_20161209_0049 (django-celery-beat 2.9.0)
BEGIN;
--
-- Change Meta options on solarschedule
--
-- (no-op)
--
-- Alter unique_together for solarschedule (1 constraint(s))
--
ALTER TABLE "django_celery_beat_solarschedule" ADD CONSTRAINT "django_celery_beat_solar_event_latitude_longitude_ba64999a_uniq" UNIQUE ("event", "latitude", "longitude");
COMMIT;
