/**
 * Edits a launch command the way a person would: change a flag's value where it stands, add a missing
 * flag at the end, remove a flag with its values, and show the result as a diff to paste.
 *
 * A flag's values are the tokens after it up to the next flag (a negative number such as "-1" is a
 * value), or the text after "=" in the `--flag=value` form, which is kept when the flag is changed.
 * argparse lets the last occurrence of a flag win, so when a flag appears twice the last one is edited
 * and the earlier ones are dropped: the result then says once, and unambiguously, what Megatron will use.
 */
import type { FlagChange } from "./types";

const isFlag = (token: string): boolean => /^--?[A-Za-z]/.test(token);

/** Occurrences of `flag` in args: [start, end) token spans and whether the `=` form was used. */
function occurrences(args: string[], flag: string, isSwitch = false): Array<{ start: number; end: number; equals: boolean }> {
  const out: Array<{ start: number; end: number; equals: boolean }> = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(flag + "=")) out.push({ start: i, end: i + 1, equals: true });
    else if (args[i] === flag) {
      let end = i + 1;
      // A switch has no values: whatever follows it is not ours to move or delete.
      while (!isSwitch && end < args.length && !isFlag(args[end])) end++;
      out.push({ start: i, end, equals: false });
    }
  }
  return out;
}

/** Tokens for `flag` set to `value`: "" is a switch without value, several space-separated values become several tokens. */
function render(flag: string, value: string, equals: boolean): string[] {
  if (value === "") return [flag];
  const values = value.split(/\s+/).filter((v) => v !== "");
  // `--flag=a b` is not one argument to argparse, so several values always use the spaced form.
  if (equals && values.length === 1) return [`${flag}=${values[0]}`];
  return [flag, ...values];
}

/** readFlag returns a flag's value in a launch command (its last occurrence, values joined by spaces), "" for a switch, null when absent. */
export function readFlag(args: string[], flag: string): string | null {
  const found = occurrences(args, flag);
  if (found.length === 0) return null;
  const last = found[found.length - 1];
  if (last.equals) return args[last.start].slice(flag.length + 1);
  return args.slice(last.start + 1, last.end).join(" ");
}

/** applyFlagChanges returns a copy of `args` with each change applied: `to` null removes the flag, "" sets a switch, other text sets the value in place or appends the flag. */
export function applyFlagChanges(args: string[], changes: FlagChange[]): string[] {
  let out = [...args];
  for (const change of changes) {
    const found = occurrences(out, change.flag, change.to === "" || change.from === "");
    const last = found[found.length - 1];
    const next: string[] = [];
    let cursor = 0;
    for (const occ of found) {
      next.push(...out.slice(cursor, occ.start));
      if (occ === last && change.to !== null) next.push(...render(change.flag, change.to, occ.equals));
      cursor = occ.end;
    }
    next.push(...out.slice(cursor));
    if (!last && change.to !== null) next.push(...render(change.flag, change.to, false));
    out = next;
  }
  return out;
}

/** Splits argv into one line per flag with its values, the way launch scripts list them. */
function toLines(args: string[]): string[] {
  const lines: string[][] = [];
  for (const token of args) {
    if (isFlag(token) || lines.length === 0) lines.push([token]);
    else lines[lines.length - 1].push(token);
  }
  return lines.map((tokens) => tokens.map(shellQuote).join(" "));
}

/** shellQuote returns a token as bash would need it pasted: unchanged when plain, else single-quoted. */
export function shellQuote(token: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(token)) return token;
  return `'${token.replace(/'/g, `'\\''`)}'`;
}

/** argsDiff renders the change from `before` to `after` as a unified-style diff, one flag per line, removed lines with "-" and added lines with "+"; empty when nothing changed. */
export function argsDiff(before: string[], after: string[]): string {
  const a = toLines(before);
  const b = toLines(after);
  // Longest common subsequence over whole flag lines; launch commands are short, so O(n*m) is fine.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  const body: string[] = [];
  // Within each run of differences, removals come before additions, so "-old" sits above "+new".
  const flush = () => {
    body.push(...removed.map((l) => `- ${l}`), ...added.map((l) => `+ ${l}`));
    removed.length = 0;
    added.length = 0;
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      flush();
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && lcs[i + 1][j] >= lcs[i][j + 1])) removed.push(a[i++]);
    else added.push(b[j++]);
  }
  flush();
  if (body.length === 0) return "";
  return ["--- launch arguments (current)", "+++ launch arguments (suggested)", ...body].join("\n");
}
