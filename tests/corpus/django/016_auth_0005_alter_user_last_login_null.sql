-- corpus: auth 0005_alter_user_last_login_null (Django 5.1.15)
BEGIN;
--
-- Alter field last_login on user
--
ALTER TABLE "auth_user" ALTER COLUMN "last_login" DROP NOT NULL;
COMMIT;
