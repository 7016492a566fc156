-- corpus: auth 0003_alter_user_email_max_length (Django 5.1.15)
BEGIN;
--
-- Alter field email on user
--
ALTER TABLE "auth_user" ALTER COLUMN "email" TYPE varchar(254);
COMMIT;
