-- A run whose attempts are spent is closed as failed, with the last error.
ALTER TABLE "ReconciliationRun" ADD COLUMN "failure" TEXT;
