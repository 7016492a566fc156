-- corpus: taggit 0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx (django-taggit 6.1.0)
BEGIN;
--
-- Rename unnamed index for ('content_type', 'object_id') on taggeditem to taggit_tagg_content_8fc721_idx
--
-- (no-op)
COMMIT;
