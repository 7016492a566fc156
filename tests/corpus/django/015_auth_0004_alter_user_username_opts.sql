-- corpus: auth 0004_alter_user_username_opts (Django 5.1.15)
BEGIN;
--
-- Alter field username on user
--
-- (no-op)
COMMIT;
