-- corpus: auth 0011_update_proxy_permissions (Django 5.1.15)
BEGIN;
--
-- Raw Python operation
--
-- THIS OPERATION CANNOT BE WRITTEN AS SQL
COMMIT;
