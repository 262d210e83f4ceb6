-- AlterTable
ALTER TABLE "CostEntry" ADD COLUMN     "cycleTotalCents" BIGINT;

-- AlterTable
ALTER TABLE "Escalation" ADD COLUMN     "subjectId" TEXT,
ADD COLUMN     "subjectType" TEXT;

-- CreateIndex
CREATE INDEX "Escalation_subjectType_subjectId_idx" ON "Escalation"("subjectType", "subjectId");
