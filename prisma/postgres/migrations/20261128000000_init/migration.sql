-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL,
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
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenMs" BIGINT,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
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
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenMs" BIGINT,

    CONSTRAINT "Rank_pkey" PRIMARY KEY ("runId","rank")
);

-- CreateTable
CREATE TABLE "LayerReport" (
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "layer" INTEGER NOT NULL,
    "rank" INTEGER NOT NULL,
    "microBatches" INTEGER NOT NULL,
    "tokens" BIGINT NOT NULL,
    "counts" BYTEA NOT NULL,
    "countsBeforeDrop" BYTEA,
    "received" BYTEA,
    "dropped" BIGINT,
    "loadBalancingLoss" DOUBLE PRECISION,
    "seqLoadBalancingLoss" DOUBLE PRECISION,
    "globalLoadBalancingLoss" DOUBLE PRECISION,
    "zLoss" DOUBLE PRECISION,

    CONSTRAINT "LayerReport_pkey" PRIMARY KEY ("runId","step","layer","rank")
);

-- CreateTable
CREATE TABLE "StepSample" (
    "runId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "iterationTimeMs" DOUBLE PRECISION,
    "lmLoss" DOUBLE PRECISION,
    "allocatedBytes" BIGINT,
    "reservedBytes" BIGINT,
    "peakAllocatedBytes" BIGINT,
    "numOoms" BIGINT,
    "numAllocRetries" BIGINT,
    "wallTimeMs" DOUBLE PRECISION,

    CONSTRAINT "StepSample_pkey" PRIMARY KEY ("runId","rank","step")
);

-- CreateTable
CREATE TABLE "LayerAggregate" (
    "runId" TEXT NOT NULL,
    "layer" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "ranksReported" INTEGER NOT NULL,
    "ranksExpected" INTEGER NOT NULL,
    "tokens" BIGINT NOT NULL,
    "load" BYTEA NOT NULL,
    "maxVio" DOUBLE PRECISION,
    "cv" DOUBLE PRECISION,
    "entropy" DOUBLE PRECISION,
    "deadExperts" INTEGER NOT NULL,
    "epImbalance" DOUBLE PRECISION,
    "epWorstEdp" INTEGER,
    "epWorstRank" INTEGER,
    "receivedMismatches" INTEGER NOT NULL DEFAULT 0,
    "loadBalancingLoss" DOUBLE PRECISION,
    "seqLoadBalancingLoss" DOUBLE PRECISION,
    "globalLoadBalancingLoss" DOUBLE PRECISION,
    "zLoss" DOUBLE PRECISION,

    CONSTRAINT "LayerAggregate_pkey" PRIMARY KEY ("runId","layer","step")
);

-- CreateTable
CREATE TABLE "RunEvent" (
    "id" TEXT NOT NULL,
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
    "wallTimeMs" DOUBLE PRECISION,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RunEvent_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "Rank" ADD CONSTRAINT "Rank_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RunEvent" ADD CONSTRAINT "RunEvent_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;


