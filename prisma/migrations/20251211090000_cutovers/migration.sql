-- CreateTable
CREATE TABLE "Cutover" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "changeRequestId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "planVersion" TEXT NOT NULL,
    "plan" JSONB NOT NULL,
    "cleanStreak" INTEGER NOT NULL,
    "openedBy" TEXT NOT NULL,
    "openedAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "closedAt" TIMESTAMPTZ(3),
    "revision" INTEGER NOT NULL,
    "view" JSONB NOT NULL,

    CONSTRAINT "Cutover_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Cutover_workflowId_key" ON "Cutover"("workflowId");

-- CreateIndex
CREATE INDEX "Cutover_changeRequestId_idx" ON "Cutover"("changeRequestId");

-- CreateIndex
CREATE INDEX "Cutover_status_openedAt_idx" ON "Cutover"("status", "openedAt");

