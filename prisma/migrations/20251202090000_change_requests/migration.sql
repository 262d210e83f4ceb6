-- CreateTable
CREATE TABLE "ChangeRequest" (
    "id" UUID NOT NULL,
    "workflowId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "class" TEXT NOT NULL,
    "risk" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "requester" TEXT NOT NULL,
    "affectedSystems" TEXT[],
    "touches" TEXT[],
    "round" INTEGER NOT NULL,
    "pendingRoles" TEXT[],
    "voters" TEXT[],
    "policyVersion" TEXT NOT NULL,
    "slaDueAt" TIMESTAMPTZ(3),
    "openedAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "closedAt" TIMESTAMPTZ(3),
    "revision" INTEGER NOT NULL,
    "view" JSONB NOT NULL,
    "projectedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ChangeRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Decision" (
    "id" BIGSERIAL NOT NULL,
    "changeRequestId" UUID NOT NULL,
    "round" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "reason" TEXT,
    "by" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Decision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Evidence" (
    "changeRequestId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "uri" TEXT,
    "addedBy" TEXT NOT NULL,
    "addedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Evidence_pkey" PRIMARY KEY ("changeRequestId","seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "ChangeRequest_workflowId_key" ON "ChangeRequest"("workflowId");

-- CreateIndex
CREATE INDEX "ChangeRequest_status_openedAt_idx" ON "ChangeRequest"("status", "openedAt");

-- CreateIndex
CREATE INDEX "ChangeRequest_class_openedAt_idx" ON "ChangeRequest"("class", "openedAt");

-- CreateIndex
CREATE INDEX "ChangeRequest_requester_openedAt_idx" ON "ChangeRequest"("requester", "openedAt");

-- CreateIndex
CREATE INDEX "ChangeRequest_openedAt_id_idx" ON "ChangeRequest"("openedAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Decision_changeRequestId_round_by_key" ON "Decision"("changeRequestId", "round", "by");

-- AddForeignKey
ALTER TABLE "Decision" ADD CONSTRAINT "Decision_changeRequestId_fkey" FOREIGN KEY ("changeRequestId") REFERENCES "ChangeRequest"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_changeRequestId_fkey" FOREIGN KEY ("changeRequestId") REFERENCES "ChangeRequest"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

