-- CreateTable
CREATE TABLE "RankInstance" (
    "runId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "instance" TEXT NOT NULL,
    "durableSeq" BIGINT NOT NULL DEFAULT 0,
    "firstSeenMs" BIGINT NOT NULL,
    "lastSeenMs" BIGINT NOT NULL,

    CONSTRAINT "RankInstance_pkey" PRIMARY KEY ("runId","rank","instance")
);

-- AddForeignKey
ALTER TABLE "RankInstance" ADD CONSTRAINT "RankInstance_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
