-- corpus: taggit 0003_taggeditem_add_unique_index (django-taggit 6.1.0)
BEGIN;
--
-- Create constraint taggit_taggeditem_content_type_id_object_id_tag_id_4bb97a8e_uniq on model taggeditem
--
ALTER TABLE "taggit_taggeditem" ADD CONSTRAINT "taggit_taggeditem_content_type_id_object_id_tag_id_4bb97a8e_uniq" UNIQUE ("content_type_id", "object_id", "tag_id");
COMMIT;
