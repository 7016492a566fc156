-- corpus: auth 0007_alter_validators_add_error_messages (Django 5.1.15)
BEGIN;
--
-- Alter field username on user
--
-- (no-op)
COMMIT;
