-- The run behind each escalation projection write, so a run started by a reset can take the row over.
ALTER TABLE "Escalation" ADD COLUMN "runId" TEXT;
ALTER TABLE "Escalation" ADD COLUMN "supersededRuns" TEXT[] DEFAULT ARRAY[]::TEXT[];
