-- corpus: taggit 0005_auto_20220424_2025 (django-taggit 6.1.0)
BEGIN;
--
-- Alter field slug on tag
--
-- (no-op)
COMMIT;
