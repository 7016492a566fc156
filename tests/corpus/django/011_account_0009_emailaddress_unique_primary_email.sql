-- corpus: account 0009_emailaddress_unique_primary_email (django-allauth 65.22.1)
BEGIN;
--
-- Create constraint unique_primary_email on model emailaddress
--
CREATE UNIQUE INDEX "unique_primary_email" ON "account_emailaddress" ("user_id", "primary") WHERE "primary";
COMMIT;
