-- AlterTable
ALTER TABLE "LayerAggregate" ADD COLUMN "dropFraction" REAL;

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "runId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "layer" INTEGER,
    "rank" INTEGER,
    "severity" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "threshold" REAL NOT NULL,
    "value" REAL NOT NULL,
    "step" INTEGER NOT NULL,
    "peakValue" REAL NOT NULL,
    "peakStep" INTEGER NOT NULL,
    "lastValue" REAL,
    "lastStep" INTEGER,
    "labels" TEXT NOT NULL DEFAULT '{}',
    "message" TEXT NOT NULL,
    "startedAtMs" BIGINT NOT NULL,
    "firedAtMs" BIGINT NOT NULL,
    "resolvedAtMs" BIGINT,
    "updatedAtMs" BIGINT NOT NULL,
    CONSTRAINT "Alert_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AlertDelivery" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "alertId" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    "atMs" BIGINT NOT NULL,
    CONSTRAINT "AlertDelivery_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AlertRuleOverride" (
    "runId" TEXT NOT NULL PRIMARY KEY,
    "rules" TEXT NOT NULL,
    "updatedAtMs" BIGINT NOT NULL
);

-- CreateIndex
CREATE INDEX "Alert_runId_status_idx" ON "Alert"("runId", "status");

-- CreateIndex
CREATE INDEX "Alert_status_firedAtMs_idx" ON "Alert"("status", "firedAtMs");

-- CreateIndex
CREATE INDEX "AlertDelivery_alertId_idx" ON "AlertDelivery"("alertId");

-- CreateIndex
CREATE INDEX "AlertDelivery_atMs_idx" ON "AlertDelivery"("atMs");


