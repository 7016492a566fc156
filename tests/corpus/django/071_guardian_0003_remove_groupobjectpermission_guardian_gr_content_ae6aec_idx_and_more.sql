-- corpus: guardian 0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more (django-guardian 3.5.2)
BEGIN;
--
-- Remove index guardian_gr_content_ae6aec_idx from groupobjectpermission
--
DROP INDEX IF EXISTS "guardian_gr_content_ae6aec_idx";
--
-- Remove index guardian_us_content_179ed2_idx from userobjectpermission
--
DROP INDEX IF EXISTS "guardian_us_content_179ed2_idx";
--
-- Create index guardian_gr_permiss_83545c_idx on field(s) permission, group, content_type, object_pk of model groupobjectpermission
--
CREATE INDEX "guardian_gr_permiss_83545c_idx" ON "guardian_groupobjectpermission" ("permission_id", "group_id", "content_type_id", "object_pk");
--
-- Create index guardian_gr_group_i_9e7d12_idx on field(s) group, content_type, object_pk of model groupobjectpermission
--
CREATE INDEX "guardian_gr_group_i_9e7d12_idx" ON "guardian_groupobjectpermission" ("group_id", "content_type_id", "object_pk");
--
-- Create index guardian_us_permiss_e5749c_idx on field(s) permission, user, content_type, object_pk of model userobjectpermission
--
CREATE INDEX "guardian_us_permiss_e5749c_idx" ON "guardian_userobjectpermission" ("permission_id", "user_id", "content_type_id", "object_pk");
--
-- Create index guardian_us_user_id_8eae14_idx on field(s) user, content_type, object_pk of model userobjectpermission
--
CREATE INDEX "guardian_us_user_id_8eae14_idx" ON "guardian_userobjectpermission" ("user_id", "content_type_id", "object_pk");
COMMIT;
