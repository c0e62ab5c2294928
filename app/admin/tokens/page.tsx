import type { Metadata } from "next";
import { pageAuth } from "@/lib/web/auth/page";
import { roleAtLeast } from "@/lib/web/auth/roles";
import { ingestAuthMode, listIngestTokens, listProjects } from "@/lib/store/ingestTokens";
import { getDb } from "@/lib/web/data/webDb";
import { NeedsAdmin } from "../NeedsAdmin";
import { TokensAdmin } from "./TokensAdmin";

export const metadata: Metadata = { title: "Ingest tokens" };
export const dynamic = "force-dynamic";

/** TokensPage (admin): per-project ingest tokens the collector requires — create (shown once), list, revoke. */
export default async function TokensPage() {
  const auth = await pageAuth();
  if (!auth.user || !roleAtLeast(auth.user.role, "admin")) return <NeedsAdmin auth={auth} />;
  const db = await getDb();
  const off = ingestAuthMode() === "off";
  return (
    <div className="space-y-4" data-testid="tokens-page">
      <h1 className="text-lg font-semibold">Ingest tokens</h1>
      {off && (
        <p role="status" className="max-w-3xl rounded border border-warn/40 bg-warn-bg p-3 text-sm text-warn" data-testid="ingest-auth-off">
          Ingest authentication is off (INGEST_AUTH=off): the collector accepts runs without a token. Tokens made here start to
          matter once the collector runs with authentication on (the default).
        </p>
      )}
      <p className="max-w-3xl text-sm text-muted">
        Every training job presents a token of its project to the collector (gRPC metadata <code>authorization: Bearer …</code>,
        which the clients send from <code>MOE_TELEMETRY_TOKEN</code>). A token is shown once; only its hash is stored. A missing or
        wrong token gets UNAUTHENTICATED; a run of another project gets PERMISSION_DENIED.
      </p>
      <TokensAdmin initialTokens={await listIngestTokens(db)} initialProjects={await listProjects(db)} />
    </div>
  );
}
