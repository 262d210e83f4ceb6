-- CreateTable
CREATE TABLE "Program" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "systems" TEXT[],
    "dailyShipments" INTEGER NOT NULL,
    "averageShipmentValue" DECIMAL(18,2) NOT NULL,
    "customers" INTEGER NOT NULL,
    "averageOrderValue" DECIMAL(18,2) NOT NULL,
    "annualChurnRate" DOUBLE PRECISION NOT NULL,
    "budget" DECIMAL(18,2),
    "spent" DECIMAL(18,2) NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "Program_pkey" PRIMARY KEY ("id")
);

