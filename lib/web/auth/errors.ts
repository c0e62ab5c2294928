/**
 * Authentication and authorization failures. They live apart from the analysis core's errors because
 * only the web edge raises them; lib/web/http/http.ts maps them to 401 and 403.
 */
import { MoeTelemetryError } from "../../analysis/errors";

/** Unauthenticated: no valid session (HTTP 401). */
export class Unauthenticated extends MoeTelemetryError {}

/** Forbidden: signed in, but the role (or the request's origin) does not allow this (HTTP 403). */
export class Forbidden extends MoeTelemetryError {}

/** TooManyAttempts: login throttled; `retryAfterS` says when to try again (HTTP 429). */
export class TooManyAttempts extends MoeTelemetryError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}
