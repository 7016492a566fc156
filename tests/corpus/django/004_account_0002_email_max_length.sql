-- corpus: account 0002_email_max_length (django-allauth 65.22.1)
BEGIN;
--
-- Alter field email on emailaddress
--
ALTER TABLE "account_emailaddress" ALTER COLUMN "email" TYPE varchar(254);
COMMIT;
