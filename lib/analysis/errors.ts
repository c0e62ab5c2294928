/**
 * The product's one error hierarchy. The pure core throws these; each edge maps them once
 * (gRPC status codes in the collector, HTTP codes in route handlers, error.tsx in the UI).
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
