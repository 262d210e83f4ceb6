-- AlterTable
ALTER TABLE "Rollout" ADD COLUMN     "gateStatus" TEXT,
ADD COLUMN     "readyToAdvance" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE INDEX "Rollout_status_readyToAdvance_idx" ON "Rollout"("status", "readyToAdvance");

-- CreateIndex
CREATE INDEX "StewardshipReview_openedAt_id_idx" ON "StewardshipReview"("openedAt", "id");

