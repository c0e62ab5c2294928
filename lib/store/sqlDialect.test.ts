import { describe, expect, it } from "vitest";
import { SqlDialect } from "./sqlDialect";

describe("SqlDialect", () => {
  it("numbers PostgreSQL placeholders and uses ? for SQLite", () => {
    expect(new SqlDialect("postgresql").placeholders(2, 3)).toBe("($1, $2, $3), ($4, $5, $6)");
    expect(new SqlDialect("sqlite").placeholders(2, 2)).toBe("(?, ?), (?, ?)");
  });
  it("param works detached from its object", () => {
    const p = new SqlDialect("postgresql").param;
    expect([p(1), p(7)]).toEqual(["$1", "$7"]);
    expect(new SqlDialect("sqlite").param(3)).toBe("?");
  });
});
