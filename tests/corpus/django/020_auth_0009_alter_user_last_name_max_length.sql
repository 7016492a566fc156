-- corpus: auth 0009_alter_user_last_name_max_length (Django 5.1.15)
BEGIN;
--
-- Alter field last_name on user
--
ALTER TABLE "auth_user" ALTER COLUMN "last_name" TYPE varchar(150);
COMMIT;
