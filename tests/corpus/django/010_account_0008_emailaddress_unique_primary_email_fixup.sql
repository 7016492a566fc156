-- corpus: account 0008_emailaddress_unique_primary_email_fixup (django-allauth 65.22.1)
BEGIN;
--
-- Raw Python operation
--
-- THIS OPERATION CANNOT BE WRITTEN AS SQL
COMMIT;
