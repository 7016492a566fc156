-- corpus: taggit 0004_alter_taggeditem_content_type_alter_taggeditem_tag (django-taggit 6.1.0)
BEGIN;
--
-- Alter field content_type on taggeditem
--
-- (no-op)
--
-- Alter field tag on taggeditem
--
-- (no-op)
COMMIT;
