-- CreateTable
CREATE TABLE "AlertInstance" (
    "runId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "labels" TEXT NOT NULL DEFAULT '{}',
    "alertId" TEXT,
    "updatedAtMs" BIGINT NOT NULL,

    PRIMARY KEY ("runId", "ruleId", "scope")
);


