/**
 * The product's one error hierarchy, for every layer: the pure core, the store, the collector and the
 * dashboard throw these; each edge maps them once (collector/toServiceError.ts to gRPC status codes,
 * lib/web/http/http.ts errorResponse to HTTP codes, error.tsx in the UI). Anything else thrown is an
 * internal error: logged under an id, never echoed (lib/runtime/internalError.ts).
 */

/** MoeTelemetryError is the base of every error the product raises on purpose; `field` names the offending input when there is one. */
export class MoeTelemetryError extends Error {
  readonly field?: string;

  constructor(message: string, field?: string) {
    super(message);
    // Subclass names survive minification and show in logs, so edges can map by name as well as instanceof.
    this.name = new.target.name;
    if (field !== undefined) this.field = field;
  }
}

/** InvalidInput means the caller sent something malformed or inconsistent (gRPC INVALID_ARGUMENT, HTTP 400). */
export class InvalidInput extends MoeTelemetryError {}

/** NotFound means the input named something that does not exist, such as an unknown run (gRPC NOT_FOUND, HTTP 404). */
export class NotFound extends MoeTelemetryError {}

/** Conflict means the input contradicts what is already stored, such as a run key re-registered with another layout (gRPC ALREADY_EXISTS, HTTP 409). */
export class Conflict extends MoeTelemetryError {}

/** Unavailable means a dependency (the database) failed for now; the caller should retry (gRPC UNAVAILABLE, HTTP 503). */
export class Unavailable extends MoeTelemetryError {}

/** Unauthenticated: no valid session or ingest token (HTTP 401, gRPC UNAUTHENTICATED). */
export class Unauthenticated extends MoeTelemetryError {}

/**
 * Forbidden: authenticated, but not allowed: a role too low or a foreign origin (HTTP 403), a token of a
 * project that does not own the run (gRPC PERMISSION_DENIED).
 */
export class Forbidden extends MoeTelemetryError {}

/** TooManyAttempts: login throttled; `retryAfterS` says when to try again (HTTP 429 with Retry-After). */
export class TooManyAttempts extends MoeTelemetryError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

/** Overloaded: the collector cannot take this now; `retryAfterMs` says when to try again (gRPC RESOURCE_EXHAUSTED with a hint). */
export class Overloaded extends MoeTelemetryError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** StreamIdle: a stream sent nothing (or no RankHello) for too long (gRPC DEADLINE_EXCEEDED). */
export class StreamIdle extends MoeTelemetryError {}
