-- An approved emergency change owes a retrospective review: who must record it (null once recorded or when none is
-- owed) and by when, so the inbox and the list can find the reviews owed without reading every view.
ALTER TABLE "ChangeRequest" ADD COLUMN "retrospectiveRole" TEXT;
ALTER TABLE "ChangeRequest" ADD COLUMN "retrospectiveDueAt" TIMESTAMPTZ(3);
CREATE INDEX "ChangeRequest_retrospectiveRole_retrospectiveDueAt_idx" ON "ChangeRequest"("retrospectiveRole", "retrospectiveDueAt");
