-- The run behind each rollout projection write, so a run started by a reset can take the row over.
ALTER TABLE "Rollout" ADD COLUMN "runId" TEXT;
ALTER TABLE "Rollout" ADD COLUMN "supersededRuns" TEXT[] DEFAULT ARRAY[]::TEXT[];
