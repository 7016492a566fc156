-- corpus: auth 0010_alter_group_name_max_length (Django 5.1.15)
BEGIN;
--
-- Alter field name on group
--
ALTER TABLE "auth_group" ALTER COLUMN "name" TYPE varchar(150);
COMMIT;
