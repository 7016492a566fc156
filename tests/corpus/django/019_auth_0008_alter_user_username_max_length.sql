-- corpus: auth 0008_alter_user_username_max_length (Django 5.1.15)
BEGIN;
--
-- Alter field username on user
--
ALTER TABLE "auth_user" ALTER COLUMN "username" TYPE varchar(150);
COMMIT;
