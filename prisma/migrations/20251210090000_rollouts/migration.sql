-- CreateTable
CREATE TABLE "Rollout" (
    "id" UUID NOT NULL,
    "workflowId" TEXT NOT NULL,
    "changeRequestId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "phaseIndex" INTEGER NOT NULL,
    "plan" JSONB NOT NULL,
    "policyVersion" TEXT NOT NULL,
    "startedBy" TEXT NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "phaseEnteredAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "revision" INTEGER NOT NULL,
    "view" JSONB NOT NULL,

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RolloutPhase" (
    "rolloutId" UUID NOT NULL,
    "visit" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "enteredAt" TIMESTAMPTZ(3) NOT NULL,
    "leftAt" TIMESTAMPTZ(3),
    "leftBecause" TEXT,

    CONSTRAINT "RolloutPhase_pkey" PRIMARY KEY ("rolloutId","visit")
);

-- CreateTable
CREATE TABLE "Measurement" (
    "id" BIGSERIAL NOT NULL,
    "rolloutId" UUID NOT NULL,
    "batchId" TEXT NOT NULL,
    "row" INTEGER NOT NULL,
    "phase" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "sampleSize" INTEGER NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "windowEnd" TIMESTAMPTZ(3) NOT NULL,
    "source" TEXT NOT NULL,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Measurement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GateEvaluation" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "rolloutId" UUID NOT NULL,
    "phase" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "criteria" JSONB NOT NULL,

    CONSTRAINT "GateEvaluation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StewardshipReview" (
    "id" TEXT NOT NULL,
    "rolloutId" UUID NOT NULL,
    "phase" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "ownerRole" TEXT NOT NULL,
    "openedAt" TIMESTAMPTZ(3) NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "trigger" JSONB NOT NULL,
    "overdueAt" TIMESTAMPTZ(3),
    "escalationId" TEXT,
    "findings" TEXT,
    "decision" TEXT,
    "closedBy" TEXT,
    "closedAt" TIMESTAMPTZ(3),

    CONSTRAINT "StewardshipReview_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Rollout_workflowId_key" ON "Rollout"("workflowId");

-- CreateIndex
CREATE INDEX "Rollout_status_startedAt_idx" ON "Rollout"("status", "startedAt");

-- CreateIndex
CREATE INDEX "Rollout_changeRequestId_idx" ON "Rollout"("changeRequestId");

-- CreateIndex
CREATE INDEX "Measurement_rolloutId_phase_windowEnd_idx" ON "Measurement"("rolloutId", "phase", "windowEnd");

-- CreateIndex
CREATE UNIQUE INDEX "Measurement_batchId_row_key" ON "Measurement"("batchId", "row");

-- CreateIndex
CREATE UNIQUE INDEX "GateEvaluation_key_key" ON "GateEvaluation"("key");

-- CreateIndex
CREATE INDEX "GateEvaluation_rolloutId_at_idx" ON "GateEvaluation"("rolloutId", "at");

-- CreateIndex
CREATE INDEX "StewardshipReview_status_dueAt_idx" ON "StewardshipReview"("status", "dueAt");

-- CreateIndex
CREATE INDEX "StewardshipReview_rolloutId_idx" ON "StewardshipReview"("rolloutId");

