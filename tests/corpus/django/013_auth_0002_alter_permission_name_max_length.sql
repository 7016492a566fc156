-- corpus: auth 0002_alter_permission_name_max_length (Django 5.1.15)
BEGIN;
--
-- Alter field name on permission
--
ALTER TABLE "auth_permission" ALTER COLUMN "name" TYPE varchar(255);
COMMIT;
