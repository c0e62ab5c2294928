-- CreateTable
CREATE TABLE "AlertInstance" (
    "runId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "labels" TEXT NOT NULL DEFAULT '{}',
    "alertId" TEXT,
    "updatedAtMs" BIGINT NOT NULL,

    CONSTRAINT "AlertInstance_pkey" PRIMARY KEY ("runId","ruleId","scope")
);


