-- The run behind each cutover projection write, so a run started by a reset can take the row over.
ALTER TABLE "Cutover" ADD COLUMN "runId" TEXT;
ALTER TABLE "Cutover" ADD COLUMN "supersededRuns" TEXT[] DEFAULT ARRAY[]::TEXT[];
