-- corpus: axes 0005_remove_accessattempt_trusted (django-axes 8.3.1)
BEGIN;
--
-- Remove field trusted from accessattempt
--
ALTER TABLE "axes_accessattempt" DROP COLUMN "trusted" CASCADE;
COMMIT;
