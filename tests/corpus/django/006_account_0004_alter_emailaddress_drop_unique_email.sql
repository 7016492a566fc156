-- corpus: account 0004_alter_emailaddress_drop_unique_email (django-allauth 65.22.1)
BEGIN;
--
-- Alter field email on emailaddress
--
ALTER TABLE "account_emailaddress" DROP CONSTRAINT "account_emailaddress_email_key";
DROP INDEX IF EXISTS "account_emailaddress_email_03be32b2_like";
COMMIT;
