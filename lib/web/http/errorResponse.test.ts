import { afterEach, describe, expect, it, vi } from "vitest";
import { Conflict, InvalidInput, NotFound } from "../../analysis/errors";
import { errorResponse } from "./http";

describe("errorResponse", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    { name: "bad input: 400 with its message and field", err: new InvalidInput("step must be >= 0", "step"), status: 400, body: { error: "step must be >= 0", field: "step" } },
    { name: "unknown run: 404 with its message", err: new NotFound("run r1 does not exist", "runId"), status: 404, body: { error: "run r1 does not exist", field: "runId" } },
    { name: "conflict: 409 with its message", err: new Conflict("run key taken"), status: 409, body: { error: "run key taken" } },
  ])("$name", async ({ err, status, body }) => {
    const res = errorResponse(err);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  it("answers an unexpected error with an id only, and logs the error under that id", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = errorResponse(new Error('SQLITE_ERROR: no such column "passwordHash" in SELECT * FROM "User"'));
    expect(res.status).toBe(500);
    const { error } = (await res.json()) as { error: string };
    expect(error).not.toMatch(/SQLITE|passwordHash|SELECT/);
    const id = /error id ([0-9a-f]{8})/.exec(error)?.[1];
    expect(id).toBeDefined();
    expect(logged).toHaveBeenCalledWith("internal error", id, expect.any(Error));
  });
});
