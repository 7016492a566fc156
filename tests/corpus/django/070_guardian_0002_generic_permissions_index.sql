-- corpus: guardian 0002_generic_permissions_index (django-guardian 3.5.2)
BEGIN;
--
-- Create index guardian_gr_content_ae6aec_idx on field(s) content_type, object_pk of model groupobjectpermission
--
CREATE INDEX "guardian_gr_content_ae6aec_idx" ON "guardian_groupobjectpermission" ("content_type_id", "object_pk");
--
-- Create index guardian_us_content_179ed2_idx on field(s) content_type, object_pk of model userobjectpermission
--
CREATE INDEX "guardian_us_content_179ed2_idx" ON "guardian_userobjectpermission" ("content_type_id", "object_pk");
COMMIT;
