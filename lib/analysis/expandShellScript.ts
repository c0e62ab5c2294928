/**
 * Turns a pasted launch command or launch script into the argv of its launch command. Users paste
 * anything from a one-line `torchrun ... pretrain_gpt.py --num-layers 32 ...` to a whole script in
 * the style of Megatron's examples (the seed's), which builds bash arrays (`MOE_ARGS=( ... )`) and
 * expands them into `torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py ${MODEL_ARGS[@]} ...`.
 *
 * This is a deliberately small subset of bash, evaluated without running anything:
 * - quoting ('...', "...", backslash), comments, backslash-newline continuations, `;`/`&&`/`||`/`|`;
 * - top-level assignments `NAME=value`, `NAME=( ... )`, `NAME+=( ... )` (also after `export`);
 * - expansions `$NAME`, `${NAME}`, `${NAME[@]}`, `${NAME[N]}`, `${NAME:-default}`, `${NAME-default}`.
 * Anything that needs a running shell ($1, $(...), $((...)), backquotes, variables never assigned in
 * the text) is left exactly as written, so the caller can show it as unexpanded. Assignments inside
 * if/for/while blocks are not applied: their condition cannot be known.
 * The launch command is the command with the most `--flags` after expansion (the last one on a tie).
 */

type Segment =
  | { kind: "text"; text: string; quoted: boolean }
  | { kind: "var"; name: string; index?: string; op?: ":-" | "-"; fallback?: Segment[]; raw: string; quoted: boolean }
  | { kind: "opaque"; raw: string; quoted: boolean };

type Token =
  | { kind: "word"; segments: Segment[] }
  | { kind: "array"; name: string; append: boolean }
  | { kind: "close" }
  | { kind: "sep" };

type Variable = { kind: "scalar"; value: string; unresolved: boolean } | { kind: "array"; values: string[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Scans from `start` (just after an opening bracket) to its matching `close`, returning the index after it. */
function matchClose(text: string, start: number, open: string, close: string): number {
  let depth = 1;
  let i = start;
  while (i < text.length && depth > 0) {
    if (text[i] === "\\") i++;
    else if (text[i] === open) depth++;
    else if (text[i] === close) depth--;
    i++;
  }
  return i;
}

/** Parses the expansion starting at text[i] === "$"; returns the segment and the index after it. */
function readDollar(text: string, i: number, quoted: boolean): [Segment, number] {
  const next = text[i + 1];
  if (next === "(") {
    const end = text[i + 2] === "(" ? matchClose(text, i + 3, "(", ")") + 1 : matchClose(text, i + 2, "(", ")");
    return [{ kind: "opaque", raw: text.slice(i, end), quoted }, end];
  }
  if (next === "{") {
    const end = matchClose(text, i + 2, "{", "}");
    const raw = text.slice(i, end);
    const body = text.slice(i + 2, end - 1);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[([@*]|\d+)\])?(?:(:?-)([\s\S]*))?$/.exec(body);
    if (!m) return [{ kind: "opaque", raw, quoted }, end];
    const segment: Segment = { kind: "var", name: m[1], raw, quoted };
    if (m[2] !== undefined) segment.index = m[2];
    if (m[3] !== undefined) {
      segment.op = m[3] as ":-" | "-";
      segment.fallback = readWord(m[4] ?? "", 0, false)[0];
    }
    return [segment, end];
  }
  const name = NAME.exec(text.slice(i + 1));
  if (name) return [{ kind: "var", name: name[0], raw: "$" + name[0], quoted }, i + 1 + name[0].length];
  if (next !== undefined && /[0-9@*#?$!-]/.test(next)) return [{ kind: "opaque", raw: "$" + next, quoted }, i + 2];
  return [{ kind: "text", text: "$", quoted }, i + 1];
}

/** Reads one word from text[i]; stops at unquoted whitespace or an operator (and ")" inside an array). */
function readWord(text: string, start: number, inArray: boolean): [Segment[], number] {
  const segments: Segment[] = [];
  const push = (s: string, quoted: boolean) => {
    const last = segments[segments.length - 1];
    if (last && last.kind === "text" && last.quoted === quoted) last.text += s;
    else segments.push({ kind: "text", text: s, quoted });
  };
  let i = start;
  while (i < text.length) {
    const ch = text[i];
    if (/[ \t\n;&|]/.test(ch) || (inArray && ch === ")")) break;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end;
      push(text.slice(i + 1, stop), true);
      i = stop + 1;
    } else if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length && '$`"\\'.includes(text[i + 1])) {
          push(text[i + 1], true);
          i += 2;
        } else if (text[i] === "$") {
          const [segment, end] = readDollar(text, i, true);
          segments.push(segment);
          i = end;
        } else if (text[i] === "`") {
          const end = text.indexOf("`", i + 1);
          const stop = end < 0 ? text.length : end + 1;
          segments.push({ kind: "opaque", raw: text.slice(i, stop), quoted: true });
          i = stop;
        } else {
          push(text[i], true);
          i++;
        }
      }
      i++;
    } else if (ch === "\\") {
      if (i + 1 < text.length) push(text[i + 1], true);
      i += 2;
    } else if (ch === "$") {
      const [segment, end] = readDollar(text, i, false);
      segments.push(segment);
      i = end;
    } else if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      const stop = end < 0 ? text.length : end + 1;
      segments.push({ kind: "opaque", raw: text.slice(i, stop), quoted: false });
      i = stop;
    } else {
      push(ch, false);
      i++;
    }
  }
  return [segments, i];
}

function lex(source: string): Token[] {
  const text = source.replace(/\r\n?/g, "\n").replace(/\\\n/g, "");
  const tokens: Token[] = [];
  let inArray = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === " " || ch === "\t") {
      i++;
    } else if (ch === "\n" || ch === ";" || ch === "&" || ch === "|") {
      // Inside NAME=( ... ) newlines are plain whitespace.
      if (!(inArray && ch === "\n")) tokens.push({ kind: "sep" });
      i++;
    } else if (ch === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (ch === ")" && inArray) {
      tokens.push({ kind: "close" });
      inArray = false;
      i++;
    } else {
      const assign = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=\(/.exec(text.slice(i));
      if (assign && !inArray) {
        tokens.push({ kind: "array", name: assign[1], append: assign[2] === "+" });
        inArray = true;
        i += assign[0].length;
        continue;
      }
      const [segments, end] = readWord(text, i, inArray);
      tokens.push({ kind: "word", segments });
      i = end === i ? i + 1 : end;
    }
  }
  return tokens;
}

class Shell {
  private readonly vars = new Map<string, Variable>();

  /** Expands segments to one string; `unresolved` when any part needed a running shell. */
  join(segments: Segment[]): { text: string; unresolved: boolean } {
    let text = "";
    let unresolved = false;
    for (const s of segments) {
      if (s.kind === "text") text += s.text;
      else if (s.kind === "opaque") {
        text += s.raw;
        unresolved = true;
      } else {
        const fields = this.lookup(s);
        if (fields === null) {
          text += s.raw;
          unresolved = true;
        } else text += fields.join(" ");
      }
    }
    return { text, unresolved };
  }

  /** The fields a variable reference expands to, or null when only a running shell could tell. */
  private lookup(s: Extract<Segment, { kind: "var" }>): string[] | null {
    const v = this.vars.get(s.name);
    const empty = v === undefined || (v.kind === "scalar" && !v.unresolved && v.value === "") || (v.kind === "array" && v.values.length === 0);
    if (s.op !== undefined && (v === undefined || (s.op === ":-" && empty))) {
      const fallback = this.join(s.fallback ?? []);
      return fallback.unresolved ? null : [fallback.text];
    }
    if (v === undefined) return null;
    if (v.kind === "scalar") return v.unresolved ? null : [v.value];
    if (s.index === "@" || s.index === "*") return v.values;
    const at = s.index === undefined ? 0 : Number(s.index);
    return at < v.values.length ? [v.values[at]] : [];
  }

  /** Expands one word into argv fields, with bash's splitting of unquoted expansions. */
  fields(segments: Segment[]): string[] {
    if (segments.length === 1 && segments[0].kind === "var") {
      const s = segments[0];
      const values = this.lookup(s);
      if (values === null) return [s.raw];
      if (s.quoted) return s.index === "@" ? values : [values.join(" ")];
      return values.flatMap((v) => v.split(/\s+/).filter((f) => f !== ""));
    }
    const { text } = this.join(segments);
    const quoted = segments.some((s) => s.quoted);
    return text === "" && !quoted ? [] : [text];
  }

  assignScalar(name: string, segments: Segment[]): void {
    const { text, unresolved } = this.join(segments);
    this.vars.set(name, { kind: "scalar", value: text, unresolved });
  }

  assignArray(name: string, append: boolean, elements: Segment[][]): void {
    const values = elements.flatMap((e) => this.fields(e));
    const prior = this.vars.get(name);
    const base = append && prior ? (prior.kind === "array" ? prior.values : [prior.value]) : [];
    this.vars.set(name, { kind: "array", values: [...base, ...values] });
  }
}

/** Splits `NAME=value` off a word's first text segment; null when the word is not an assignment. */
function scalarAssignment(segments: Segment[]): { name: string; value: Segment[] } | null {
  const first = segments[0];
  if (!first || first.kind !== "text" || first.quoted) return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!m) return null;
  const rest = first.text.slice(m[0].length);
  return { name: m[1], value: [...(rest ? [{ ...first, text: rest }] : []), ...segments.slice(1)] };
}

const OPENERS = new Set(["if", "for", "while", "until", "case", "select"]);
const CLOSERS = new Set(["fi", "done", "esac"]);
const PREFIXES = new Set(["then", "do", "else", "{", "}"]);
const DECLARATIONS = new Set(["export", "local", "declare", "readonly", "typeset"]);

/** expandShellScript evaluates the assignments of a pasted launch command or script and returns the argv of its launch command (the command with the most --flags). */
export function expandShellScript(text: string): { argv: string[] } {
  const shell = new Shell();
  const tokens = lex(text);
  let best: string[] = [];
  let bestScore = -1;
  let depth = 0;
  let statement: Token[] = [];

  const literal = (t: Token | undefined): string | undefined =>
    t && t.kind === "word" && t.segments.length === 1 && t.segments[0].kind === "text" && !t.segments[0].quoted ? t.segments[0].text : undefined;

  const run = (tokensOfStatement: Token[]) => {
    let words = tokensOfStatement;
    while (words.length > 0 && PREFIXES.has(literal(words[0]) ?? "")) words = words.slice(1);
    if (words.length === 0) return;
    const head = literal(words[0]);
    if (head !== undefined && OPENERS.has(head)) {
      depth++;
      return;
    }
    if (head !== undefined && CLOSERS.has(head)) {
      depth = Math.max(0, depth - 1);
      return;
    }
    if (head === "elif") return;
    if (head !== undefined && DECLARATIONS.has(head)) {
      words = words.slice(1).filter((w) => !(literal(w) ?? "").startsWith("-"));
    }
    // Leading assignments: on their own they set variables; before a command they only set its environment.
    let at = 0;
    const pending: Array<() => void> = [];
    while (at < words.length) {
      const w = words[at];
      if (w.kind === "array") {
        const elements: Segment[][] = [];
        at++;
        while (at < words.length && words[at].kind !== "close") {
          const e = words[at];
          if (e.kind === "word") elements.push(e.segments);
          at++;
        }
        at++;
        pending.push(() => shell.assignArray(w.name, w.append, elements));
        continue;
      }
      const scalar = w.kind === "word" ? scalarAssignment(w.segments) : null;
      if (!scalar) break;
      pending.push(() => shell.assignScalar(scalar.name, scalar.value));
      at++;
    }
    const command = words.slice(at).filter((w): w is Extract<Token, { kind: "word" }> => w.kind === "word");
    if (command.length === 0) {
      if (depth === 0) pending.forEach((apply) => apply());
      return;
    }
    const argv = command.flatMap((w) => shell.fields(w.segments));
    const score = argv.filter((a) => a.startsWith("--")).length;
    if (score >= bestScore) {
      best = argv;
      bestScore = score;
    }
  };

  let inArray = false;
  for (const t of tokens) {
    if (t.kind === "array") inArray = true;
    if (t.kind === "close") inArray = false;
    if (t.kind === "sep" && !inArray) {
      run(statement);
      statement = [];
    } else if (t.kind !== "sep") {
      statement.push(t);
    }
  }
  run(statement);
  return { argv: best };
}
