/**
 * Who may send to the collector: the ingest token every RPC carries in its metadata names a project,
 * and a run may only be used with a token of the project that registered it. Also the server's TLS
 * credentials. The checks live here so each handler in Collector.ts is one call.
 */
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { Forbidden, Unauthenticated, Unavailable } from "../lib/analysis/errors";
import type { Db } from "../lib/store/db";
import { TokenVerifier } from "../lib/store/ingestTokens";
import type { RunRecord } from "../lib/store/runsRepo";
import { checkCertificate, checkKeyPair, readPem } from "../lib/wire/pem";


/** IngestAuthOptions: whether tokens are checked, and how long verification answers are cached. */
export interface IngestAuthOptions {
  mode: "on" | "off";
  /** Revocations take effect within this many ms (TokenVerifier's cache). Default 2000; tests set 0. */
  cacheTtlMs?: number;
}

/** Principal: the project an RPC acts for. */
export interface Principal {
  tokenId: string;
  projectId: string;
  projectName: string;
}

const HOW_TO =
  "send metadata 'authorization: Bearer <token>' (the clients read MOE_TELEMETRY_TOKEN); create a token with `moe-telemetry tokens create --project NAME`";

/**
 * tokenOf extracts the presented token: `authorization: Bearer <token>`, or `x-moe-token: <token>` for
 * clients that cannot set the authorization header. Throws Unauthenticated when neither is usable.
 */
export function tokenOf(md: grpc.Metadata): string {
  const auth = md.get("authorization");
  if (auth.length > 0) {
    const value = String(auth[0]);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
    if (!m) throw new Unauthenticated(`malformed authorization metadata: expected 'Bearer <token>'`, "authorization");
    return m[1];
  }
  const alt = md.get("x-moe-token");
  if (alt.length > 0) return String(alt[0]).trim();
  throw new Unauthenticated(`no ingest token: ${HOW_TO}`, "authorization");
}

/** IngestAuth checks ingest tokens (or lets everything through when the mode is "off"). */
export class IngestAuth {
  private readonly verifier: TokenVerifier | null;
  private rejectedSinceLog = 0;
  private lastLogMs = 0;

  constructor(
    db: Db,
    private readonly log: Logger,
    opts: IngestAuthOptions,
  ) {
    this.verifier =
      opts.mode === "on"
        ? new TokenVerifier(db, { cacheTtlMs: opts.cacheTtlMs, onTouchError: (err) => log.warn({ err }, "could not record an ingest token's last use") })
        : null;
  }

  /** enabled is true when tokens are checked. */
  get enabled(): boolean {
    return this.verifier !== null;
  }

  /** cacheTtlMs is how long a revoked token may still be accepted (0 when auth is off). */
  get cacheTtlMs(): number {
    return this.verifier?.cacheTtlMs ?? 0;
  }

  /** authenticate returns the caller's project, null when auth is off; throws Unauthenticated. */
  async authenticate(md: grpc.Metadata, peer: string): Promise<Principal | null> {
    if (!this.verifier) return null;
    try {
      const token = tokenOf(md);
      // A database that cannot answer now is not a bad token: UNAVAILABLE, so clients retry.
      const check = await this.verifier.verify(token).catch((err: unknown) => {
        throw new Unavailable(`cannot check the ingest token now (${err instanceof Error ? err.message : String(err)}); retry`);
      });
      if (check.ok) return { tokenId: check.tokenId, projectId: check.projectId, projectName: check.projectName };
      switch (check.reason) {
        case "malformed":
          throw new Unauthenticated("malformed ingest token: expected 'moe_' followed by 43 characters", "authorization");
        case "revoked":
          throw new Unauthenticated("the ingest token was revoked: create a new one with `moe-telemetry tokens create`", "authorization");
        default:
          throw new Unauthenticated("unknown ingest token: it was not created on this deployment's database", "authorization");
      }
    } catch (err) {
      if (err instanceof Unauthenticated) this.noteRejected(peer, err.message);
      throw err;
    }
  }

  /** authorizeRun throws Forbidden unless the principal's project owns the run (or auth is off, or the run has no project). */
  authorizeRun(principal: Principal | null, run: RunRecord): void {
    if (!principal || run.projectId === null || run.projectId === principal.projectId) return;
    throw new Forbidden(
      `run "${run.runKey}" belongs to another project; this token is of project "${principal.projectName}": use a token of the run's project or a new run_key`,
      "run_key",
    );
  }

  // One warning per 10 s at most: a misconfigured cluster of thousands of ranks must not flood the log.
  private noteRejected(peer: string, reason: string): void {
    this.rejectedSinceLog++;
    const now = Date.now();
    if (now - this.lastLogMs < 10_000) return;
    this.log.warn({ peer, reason, rejected: this.rejectedSinceLog }, "RPCs rejected: no valid ingest token");
    this.lastLogMs = now;
    this.rejectedSinceLog = 0;
  }
}

/** ServerTls: PEM material of the collector's TLS; with clientCa every client must present a certificate it signed. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/**
 * loadServerTls reads and checks the collector's TLS files (COLLECTOR_TLS_CERT / _KEY / _CLIENT_CA);
 * returns undefined when none is set, and throws a message naming the setting otherwise.
 */
export function loadServerTls(o: { cert?: string; key?: string; clientCa?: string }): ServerTls | undefined {
  if (!o.cert && !o.key && !o.clientCa) return undefined;
  if (!o.cert || !o.key) {
    throw new Error("TLS needs both COLLECTOR_TLS_CERT (--tls-cert) and COLLECTOR_TLS_KEY (--tls-key)" + (o.clientCa ? "; COLLECTOR_TLS_CLIENT_CA alone is not enough" : ""));
  }
  const cert = readPem(o.cert, "COLLECTOR_TLS_CERT");
  const key = readPem(o.key, "COLLECTOR_TLS_KEY");
  checkKeyPair(cert, key, "COLLECTOR_TLS_CERT", "COLLECTOR_TLS_KEY");
  if (!o.clientCa) return { cert, key };
  const clientCa = readPem(o.clientCa, "COLLECTOR_TLS_CLIENT_CA");
  checkCertificate(clientCa, "COLLECTOR_TLS_CLIENT_CA");
  return { cert, key, clientCa };
}

/** serverCredentials: TLS credentials when configured, plaintext otherwise. */
export function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}
