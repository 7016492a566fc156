-- corpus: axes 0002_auto_20151217_2044 (django-axes 8.3.1)
BEGIN;
--
-- Alter field ip_address on accessattempt
--
CREATE INDEX "axes_accessattempt_ip_address_10922d9c" ON "axes_accessattempt" ("ip_address");
--
-- Alter field trusted on accessattempt
--
CREATE INDEX "axes_accessattempt_trusted_0eddf52e" ON "axes_accessattempt" ("trusted");
--
-- Alter field user_agent on accessattempt
--
CREATE INDEX "axes_accessattempt_user_agent_ad89678b" ON "axes_accessattempt" ("user_agent");
CREATE INDEX "axes_accessattempt_user_agent_ad89678b_like" ON "axes_accessattempt" ("user_agent" varchar_pattern_ops);
--
-- Alter field username on accessattempt
--
CREATE INDEX "axes_accessattempt_username_3f2d4ca0" ON "axes_accessattempt" ("username");
CREATE INDEX "axes_accessattempt_username_3f2d4ca0_like" ON "axes_accessattempt" ("username" varchar_pattern_ops);
--
-- Alter field ip_address on accesslog
--
CREATE INDEX "axes_accesslog_ip_address_86b417e5" ON "axes_accesslog" ("ip_address");
--
-- Alter field trusted on accesslog
--
CREATE INDEX "axes_accesslog_trusted_496c5681" ON "axes_accesslog" ("trusted");
--
-- Alter field user_agent on accesslog
--
CREATE INDEX "axes_accesslog_user_agent_0e659004" ON "axes_accesslog" ("user_agent");
CREATE INDEX "axes_accesslog_user_agent_0e659004_like" ON "axes_accesslog" ("user_agent" varchar_pattern_ops);
--
-- Alter field username on accesslog
--
CREATE INDEX "axes_accesslog_username_df93064b" ON "axes_accesslog" ("username");
CREATE INDEX "axes_accesslog_username_df93064b_like" ON "axes_accesslog" ("username" varchar_pattern_ops);
COMMIT;
