import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { InvalidInput, NotFound } from "../lib/analysis/errors";
import { toServiceError } from "./toServiceError";

describe("toServiceError", () => {
  it.each([
    { err: new InvalidInput("layers[0].tokens: -1 is negative", "layers[0].tokens"), code: grpc.status.INVALID_ARGUMENT, details: "layers[0].tokens: -1 is negative" },
    { err: new NotFound("run job-7 is not registered"), code: grpc.status.NOT_FOUND, details: "run job-7 is not registered" },
  ])("maps $err.name to its status with its message", ({ err, code, details }) => {
    expect(toServiceError(err)).toEqual({ code, details });
  });

  it("answers an unexpected error with an id, never its message, and logs it under that id", () => {
    const logged: Array<{ errorId: string; err: unknown }> = [];
    const log = { error: (fields: { errorId: string; err: unknown }) => logged.push(fields) } as unknown as Parameters<typeof toServiceError>[1];
    const err = new Error("connect ECONNREFUSED 10.0.0.5:5432 password=hunter2");
    const s = toServiceError(err, log);
    expect(s.code).toBe(grpc.status.INTERNAL);
    expect(s.details).not.toMatch(/ECONNREFUSED|hunter2/);
    expect(logged).toEqual([{ errorId: expect.stringMatching(/^[0-9a-f]{8}$/), err }]);
    expect(s.details).toContain(`error id ${logged[0].errorId}`);
  });
});
