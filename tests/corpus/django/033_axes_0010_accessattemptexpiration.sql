-- corpus: axes 0010_accessattemptexpiration (django-axes 8.3.1)
BEGIN;
--
-- Create model AccessAttemptExpiration
--
CREATE TABLE "axes_accessattemptexpiration" ("access_attempt_id" integer NOT NULL PRIMARY KEY, "expires_at" timestamp with time zone NOT NULL);
ALTER TABLE "axes_accessattemptexpiration" ADD CONSTRAINT "axes_accessattemptex_access_attempt_id_6b73a47a_fk_axes_acce" FOREIGN KEY ("access_attempt_id") REFERENCES "axes_accessattempt" ("id") DEFERRABLE INITIALLY DEFERRED;
COMMIT;
