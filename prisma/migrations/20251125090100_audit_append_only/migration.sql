-- The audit trail is evidence: once written, no role of the application may change or remove it.
-- Prisma's JavaScript migration engine splits scripts at every semicolon, even inside dollar quotes,
-- so the function body is a string literal whose semicolons are written as \073.
CREATE FUNCTION "clearway_refuse_audit_change"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  RAISE EXCEPTION ''AuditEvent is append-only: % refused'', TG_OP USING ERRCODE = ''restrict_violation''\073
END\073
';

CREATE TRIGGER "AuditEvent_refuse_update_delete"
  BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION "clearway_refuse_audit_change"();

CREATE TRIGGER "AuditEvent_refuse_truncate"
  BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION "clearway_refuse_audit_change"();
