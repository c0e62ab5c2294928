-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "runKey" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "simulated" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL DEFAULT 'running',
    "configJson" TEXT NOT NULL,
    "commandLine" TEXT NOT NULL DEFAULT '[]',
    "worldSize" INTEGER NOT NULL,
    "gpusPerNode" INTEGER NOT NULL,
    "gpuMemoryBytes" BIGINT NOT NULL,
    "framework" TEXT NOT NULL,
    "frameworkVersion" TEXT NOT NULL,
    "numExperts" INTEGER NOT NULL,
    "topk" INTEGER NOT NULL,
    "numLayers" INTEGER NOT NULL,
    "moeLayers" TEXT NOT NULL,
    "lastStep" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenMs" BIGINT,
    "version" BIGINT NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "Rank" (
    "runId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "host" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "client" TEXT NOT NULL DEFAULT '',
    "tp" INTEGER NOT NULL,
    "cp" INTEGER NOT NULL,
    "dp" INTEGER NOT NULL,
    "pp" INTEGER NOT NULL,
    "vpp" INTEGER,
    "ep" INTEGER NOT NULL,
    "etp" INTEGER NOT NULL,
    "edp" INTEGER NOT NULL,
    "durableSeq" BIGINT NOT NULL DEFAULT 0,
    "droppedBatches" BIGINT NOT NULL DEFAULT 0,
    "firstSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenMs" BIGINT,

    PRIMARY KEY ("runId", "rank"),
    CONSTRAINT "Rank_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LayerReport" (
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "layer" INTEGER NOT NULL,
    "rank" INTEGER NOT NULL,
    "microBatches" INTEGER NOT NULL,
    "tokens" BIGINT NOT NULL,
    "counts" BLOB NOT NULL,
    "countsBeforeDrop" BLOB,
    "received" BLOB,
    "dropped" BIGINT,
    "loadBalancingLoss" REAL,
    "seqLoadBalancingLoss" REAL,
    "globalLoadBalancingLoss" REAL,
    "zLoss" REAL,

    PRIMARY KEY ("runId", "step", "layer", "rank")
);

-- CreateTable
CREATE TABLE "StepSample" (
    "runId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "iterationTimeMs" REAL,
    "lmLoss" REAL,
    "allocatedBytes" BIGINT,
    "reservedBytes" BIGINT,
    "peakAllocatedBytes" BIGINT,
    "numOoms" BIGINT,
    "numAllocRetries" BIGINT,
    "wallTimeMs" REAL,

    PRIMARY KEY ("runId", "rank", "step")
);

-- CreateTable
CREATE TABLE "LayerAggregate" (
    "runId" TEXT NOT NULL,
    "layer" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "ranksReported" INTEGER NOT NULL,
    "ranksExpected" INTEGER NOT NULL,
    "tokens" BIGINT NOT NULL,
    "load" BLOB NOT NULL,
    "maxVio" REAL,
    "cv" REAL,
    "entropy" REAL,
    "deadExperts" INTEGER NOT NULL,
    "epImbalance" REAL,
    "epWorstEdp" INTEGER,
    "epWorstRank" INTEGER,
    "receivedMismatches" INTEGER NOT NULL DEFAULT 0,
    "loadBalancingLoss" REAL,
    "seqLoadBalancingLoss" REAL,
    "globalLoadBalancingLoss" REAL,
    "zLoss" REAL,

    PRIMARY KEY ("runId", "layer", "step")
);

-- CreateTable
CREATE TABLE "RunEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "runId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "layer" INTEGER,
    "phase" TEXT,
    "message" TEXT NOT NULL,
    "allocatedBytes" BIGINT,
    "reservedBytes" BIGINT,
    "peakAllocatedBytes" BIGINT,
    "numOoms" BIGINT,
    "numAllocRetries" BIGINT,
    "requestedBytes" BIGINT,
    "wallTimeMs" REAL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "RunEvent_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Run_runKey_key" ON "Run"("runKey");

-- CreateIndex
CREATE INDEX "LayerReport_runId_rank_step_idx" ON "LayerReport"("runId", "rank", "step");

-- CreateIndex
CREATE INDEX "StepSample_runId_step_idx" ON "StepSample"("runId", "step");

-- CreateIndex
CREATE INDEX "LayerAggregate_runId_step_idx" ON "LayerAggregate"("runId", "step");

-- CreateIndex
CREATE INDEX "RunEvent_runId_step_idx" ON "RunEvent"("runId", "step");


