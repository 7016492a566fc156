-- corpus: reversion 0002_add_index_on_version_for_content_type_and_db (django-reversion 6.4.0)
BEGIN;
--
-- Create index reversion_v_content_f95daf_idx on field(s) content_type, db of model version
--
CREATE INDEX "reversion_v_content_f95daf_idx" ON "reversion_version" ("content_type_id", "db");
COMMIT;
