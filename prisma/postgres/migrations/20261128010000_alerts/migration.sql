-- AlterTable
ALTER TABLE "LayerAggregate" ADD COLUMN     "dropFraction" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "layer" INTEGER,
    "rank" INTEGER,
    "severity" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "step" INTEGER NOT NULL,
    "peakValue" DOUBLE PRECISION NOT NULL,
    "peakStep" INTEGER NOT NULL,
    "lastValue" DOUBLE PRECISION,
    "lastStep" INTEGER,
    "labels" TEXT NOT NULL DEFAULT '{}',
    "message" TEXT NOT NULL,
    "startedAtMs" BIGINT NOT NULL,
    "firedAtMs" BIGINT NOT NULL,
    "resolvedAtMs" BIGINT,
    "updatedAtMs" BIGINT NOT NULL,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AlertDelivery" (
    "id" TEXT NOT NULL,
    "alertId" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    "atMs" BIGINT NOT NULL,

    CONSTRAINT "AlertDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AlertRuleOverride" (
    "runId" TEXT NOT NULL,
    "rules" TEXT NOT NULL,
    "updatedAtMs" BIGINT NOT NULL,

    CONSTRAINT "AlertRuleOverride_pkey" PRIMARY KEY ("runId")
);

-- CreateIndex
CREATE INDEX "Alert_runId_status_idx" ON "Alert"("runId", "status");

-- CreateIndex
CREATE INDEX "Alert_status_firedAtMs_idx" ON "Alert"("status", "firedAtMs");

-- CreateIndex
CREATE INDEX "AlertDelivery_alertId_idx" ON "AlertDelivery"("alertId");

-- CreateIndex
CREATE INDEX "AlertDelivery_atMs_idx" ON "AlertDelivery"("atMs");

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AlertDelivery" ADD CONSTRAINT "AlertDelivery_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;


