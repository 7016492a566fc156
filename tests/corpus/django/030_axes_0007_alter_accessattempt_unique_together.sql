-- corpus: axes 0007_alter_accessattempt_unique_together (django-axes 8.3.1)
BEGIN;
--
-- Raw Python operation
--
-- THIS OPERATION CANNOT BE WRITTEN AS SQL
--
-- Alter unique_together for accessattempt (1 constraint(s))
--
ALTER TABLE "axes_accessattempt" ADD CONSTRAINT "axes_accessattempt_username_ip_address_user_agent_8ea22282_uniq" UNIQUE ("username", "ip_address", "user_agent");
COMMIT;
