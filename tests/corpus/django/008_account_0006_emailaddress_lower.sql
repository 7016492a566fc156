-- corpus: account 0006_emailaddress_lower (django-allauth 65.22.1)
BEGIN;
--
-- Raw Python operation
--
-- THIS OPERATION CANNOT BE WRITTEN AS SQL
COMMIT;
