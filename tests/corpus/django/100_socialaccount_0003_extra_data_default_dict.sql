-- corpus: socialaccount 0003_extra_data_default_dict (django-allauth 65.22.1)
BEGIN;
--
-- Alter field extra_data on socialaccount
--
-- (no-op)
COMMIT;
