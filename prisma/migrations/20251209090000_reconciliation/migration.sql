-- CreateTable
CREATE TABLE "ReconciliationRun" (
    "id" TEXT NOT NULL,
    "cutoverId" TEXT NOT NULL,
    "window" TEXT NOT NULL,
    "planVersion" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "partitions" INTEGER NOT NULL,
    "partitionsDone" INTEGER NOT NULL DEFAULT 0,
    "resumes" INTEGER NOT NULL DEFAULT 0,
    "counts" JSONB NOT NULL,
    "rate" DOUBLE PRECISION,
    "clean" BOOLEAN,
    "reasons" TEXT[],
    "problemCount" INTEGER NOT NULL DEFAULT 0,
    "problems" JSONB NOT NULL DEFAULT '[]',
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ReconciliationRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Discrepancy" (
    "id" BIGSERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fields" TEXT[],
    "critical" BOOLEAN NOT NULL DEFAULT false,
    "legacyLine" INTEGER,
    "newLine" INTEGER,
    "detail" JSONB NOT NULL,

    CONSTRAINT "Discrepancy_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ReconciliationRun_cutoverId_window_startedAt_idx" ON "ReconciliationRun"("cutoverId", "window", "startedAt");

-- CreateIndex
CREATE INDEX "Discrepancy_runId_kind_id_idx" ON "Discrepancy"("runId", "kind", "id");

-- CreateIndex
CREATE INDEX "Discrepancy_runId_partition_idx" ON "Discrepancy"("runId", "partition");

-- AddForeignKey
ALTER TABLE "Discrepancy" ADD CONSTRAINT "Discrepancy_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ReconciliationRun"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

