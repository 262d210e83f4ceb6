-- CreateTable
CREATE TABLE "Escalation" (
    "id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "level" INTEGER NOT NULL,
    "levelName" TEXT,
    "topLevel" INTEGER NOT NULL,
    "owner" TEXT NOT NULL,
    "responsible" TEXT,
    "occurrences" INTEGER NOT NULL,
    "costRoute" TEXT,
    "costCents" BIGINT NOT NULL DEFAULT 0,
    "policyVersion" TEXT NOT NULL,
    "sourceKind" TEXT NOT NULL,
    "sourceRef" TEXT,
    "openedAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "acknowledgeBy" TIMESTAMPTZ(3),
    "resolveBy" TIMESTAMPTZ(3),
    "slaBreachedAt" TIMESTAMPTZ(3),
    "resolvedAt" TIMESTAMPTZ(3),
    "seq" INTEGER NOT NULL,
    "view" JSONB NOT NULL,

    CONSTRAINT "Escalation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EscalationStep" (
    "escalationId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "level" INTEGER NOT NULL,
    "who" TEXT NOT NULL,
    "assignee" TEXT,
    "enteredAt" TIMESTAMPTZ(3) NOT NULL,
    "acknowledgedAt" TIMESTAMPTZ(3),
    "acknowledgedBy" TEXT,
    "resolvedAt" TIMESTAMPTZ(3),
    "resolvedBy" TEXT,
    "leftAt" TIMESTAMPTZ(3),
    "leftBecause" TEXT,
    "timeToAcknowledgeMs" BIGINT,
    "timeToResolveMs" BIGINT,

    CONSTRAINT "EscalationStep_pkey" PRIMARY KEY ("escalationId","index")
);

-- CreateTable
CREATE TABLE "EscalationBreach" (
    "escalationId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "level" INTEGER NOT NULL,
    "window" TEXT NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "failedToRespond" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,

    CONSTRAINT "EscalationBreach_pkey" PRIMARY KEY ("escalationId","index")
);

-- CreateTable
CREATE TABLE "CostEntry" (
    "escalationId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "amountCents" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "note" TEXT NOT NULL,
    "by" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "cycle" TEXT NOT NULL,

    CONSTRAINT "CostEntry_pkey" PRIMARY KEY ("escalationId","index")
);

-- CreateIndex
CREATE UNIQUE INDEX "Escalation_key_key" ON "Escalation"("key");

-- CreateIndex
CREATE INDEX "Escalation_status_level_idx" ON "Escalation"("status", "level");

-- CreateIndex
CREATE INDEX "Escalation_responsible_status_idx" ON "Escalation"("responsible", "status");

-- CreateIndex
CREATE INDEX "Escalation_owner_idx" ON "Escalation"("owner");

-- CreateIndex
CREATE INDEX "Escalation_severity_idx" ON "Escalation"("severity");

-- CreateIndex
CREATE INDEX "EscalationStep_level_idx" ON "EscalationStep"("level");

-- CreateIndex
CREATE INDEX "EscalationBreach_dueAt_idx" ON "EscalationBreach"("dueAt");

-- CreateIndex
CREATE INDEX "CostEntry_currency_cycle_idx" ON "CostEntry"("currency", "cycle");

-- AddForeignKey
ALTER TABLE "EscalationStep" ADD CONSTRAINT "EscalationStep_escalationId_fkey" FOREIGN KEY ("escalationId") REFERENCES "Escalation"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EscalationBreach" ADD CONSTRAINT "EscalationBreach_escalationId_fkey" FOREIGN KEY ("escalationId") REFERENCES "Escalation"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CostEntry" ADD CONSTRAINT "CostEntry_escalationId_fkey" FOREIGN KEY ("escalationId") REFERENCES "Escalation"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
