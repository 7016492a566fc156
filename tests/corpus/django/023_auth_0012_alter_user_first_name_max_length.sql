-- corpus: auth 0012_alter_user_first_name_max_length (Django 5.1.15)
BEGIN;
--
-- Alter field first_name on user
--
ALTER TABLE "auth_user" ALTER COLUMN "first_name" TYPE varchar(150);
COMMIT;
