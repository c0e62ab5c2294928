const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** shellQuote quotes one argument for a POSIX shell only when it needs it. */
export function shellQuote(arg: string): string {
  if (arg === "") return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** formatCommandLine renders an argument array as a copyable shell command, one `--flag value` per line. */
export function formatCommandLine(args: readonly string[]): string {
  if (args.length === 0) return "";
  const lines: string[] = [];
  let current: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("--") && current.length > 0) {
      lines.push(current.join(" "));
      current = [];
    }
    current.push(shellQuote(arg));
  }
  if (current.length > 0) lines.push(current.join(" "));
  return lines.join(" \\\n  ");
}
