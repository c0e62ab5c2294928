/**
 * The few SQL differences between SQLite and PostgreSQL that the raw hot-path statements need.
 * Everything else goes through Prisma's ORM.
 */

/** SqlDialect builds placeholders and multi-row statements for one engine. */
export class SqlDialect {
  constructor(readonly name: "sqlite" | "postgresql") {}

  /** placeholders returns "(?, ?, ?), (?, ?, ?)" or "($1, $2, $3), ($4, $5, $6)" for rows x cols. */
  placeholders(rows: number, cols: number, offset = 0): string {
    const parts: string[] = [];
    let n = offset;
    for (let r = 0; r < rows; r++) {
      const cells: string[] = [];
      for (let c = 0; c < cols; c++) cells.push(this.name === "sqlite" ? "?" : `$${++n}`);
      parts.push(`(${cells.join(", ")})`);
    }
    return parts.join(", ");
  }

  /** param returns the placeholder of the i-th (1-based) parameter (an arrow, so `const p = sql.param` works). */
  readonly param = (i: number): string => (this.name === "sqlite" ? "?" : `$${i}`);
}
