-- corpus: axes 0006_remove_accesslog_trusted (django-axes 8.3.1)
BEGIN;
--
-- Remove field trusted from accesslog
--
ALTER TABLE "axes_accesslog" DROP COLUMN "trusted" CASCADE;
COMMIT;
