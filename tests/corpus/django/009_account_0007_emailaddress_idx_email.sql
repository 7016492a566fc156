-- corpus: account 0007_emailaddress_idx_email (django-allauth 65.22.1)
BEGIN;
--
-- Remove index account_emailaddress_upper from emailaddress
--
DROP INDEX IF EXISTS "account_emailaddress_upper";
--
-- Alter field email on emailaddress
--
CREATE INDEX "account_emailaddress_email_03be32b2" ON "account_emailaddress" ("email");
CREATE INDEX "account_emailaddress_email_03be32b2_like" ON "account_emailaddress" ("email" varchar_pattern_ops);
COMMIT;
