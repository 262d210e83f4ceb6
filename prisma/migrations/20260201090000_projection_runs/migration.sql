-- The run behind each change-request projection write, so a run started by a reset can take the row over.
ALTER TABLE "ChangeRequest" ADD COLUMN "runId" TEXT;
ALTER TABLE "ChangeRequest" ADD COLUMN "supersededRuns" TEXT[] DEFAULT ARRAY[]::TEXT[];
