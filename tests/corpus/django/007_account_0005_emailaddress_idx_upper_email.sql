-- corpus: account 0005_emailaddress_idx_upper_email (django-allauth 65.22.1)
BEGIN;
--
-- Create index account_emailaddress_upper on Upper(F(email)) on model emailaddress
--
CREATE INDEX "account_emailaddress_upper" ON "account_emailaddress" ((UPPER("email")));
COMMIT;
