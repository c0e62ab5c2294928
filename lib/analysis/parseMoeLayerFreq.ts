/**
 * Megatron's `--moe-layer-freq`: which transformer layers are MoE layers. Dense layers send no expert
 * telemetry, so the collector and the UI must know the pattern exactly as Megatron builds it.
 *
 * Megatron (megatron/training/arguments.py `moe_freq_type` and `_eval_pattern`) accepts an int N, a
 * string "N", or a string holding a Python list expression that it `eval`s after checking that only
 * `,0-9[]()+*` occur. megatron/core/models/gpt/gpt_layer_specs.py then makes layer i (0-based) MoE
 * iff `i % N == 0` for an int, or iff `pattern[i] == 1` for a list (0 = dense, anything else raises),
 * and asserts that the list length equals num_layers.
 *
 * We never eval: a small tokenizer and recursive-descent parser evaluates the same Python subset
 * (int literals, list displays, parentheses, `+`, `*`, `**`) with Python's semantics, so any pattern
 * Megatron accepts gives the same layers here. We additionally tolerate whitespace (Megatron rejects
 * it, so no real run can contain it, and a pasted "[1, 0]" is unambiguous).
 */
import { InvalidInput } from "./errors";
import { moeLayoutUnknown } from "./moeLayoutUnknown";
import type { RunConfig } from "./types";

const FIELD = "moe_layer_freq";

/** Lists this long cannot be a layer pattern; the cap stops "[1]*10**9" from exhausting memory. */
const MAX_LIST_LENGTH = 1_000_000;

type Value = { kind: "int"; value: number } | { kind: "list"; items: Value[] };

type Token = { kind: "int"; text: string; pos: number } | { kind: "op"; text: string; pos: number };

function fail(spec: string, why: string): never {
  throw new InvalidInput(`moe_layer_freq "${spec}" is not a valid layer pattern: ${why}`, FIELD);
}

function tokenize(spec: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < spec.length) {
    const ch = spec[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (/[0-9]/.test(ch)) {
      const start = i;
      while (i < spec.length && /[0-9]/.test(spec[i])) i++;
      const text = spec.slice(start, i);
      // Python 3 rejects "01" (but accepts "00"); mirror it so we never accept what Megatron rejects.
      if (text.length > 1 && text[0] === "0" && /[1-9]/.test(text)) {
        fail(spec, `leading zeros in integer literal "${text}" at position ${start}`);
      }
      tokens.push({ kind: "int", text, pos: start });
    } else if (ch === "*" && spec[i + 1] === "*") {
      tokens.push({ kind: "op", text: "**", pos: i });
      i += 2;
    } else if ("[](),+*".includes(ch)) {
      tokens.push({ kind: "op", text: ch, pos: i });
      i++;
    } else {
      fail(spec, `character "${ch}" at position ${i} is not allowed (only digits, [ ] ( ) , + *)`);
    }
  }
  return tokens;
}

function describe(v: Value): string {
  return v.kind === "int" ? "int" : "list";
}

function listOf(spec: string, items: Value[]): Value {
  if (items.length > MAX_LIST_LENGTH) fail(spec, `intermediate list longer than ${MAX_LIST_LENGTH}`);
  return { kind: "list", items };
}

function safeInt(spec: string, value: number): Value {
  if (!Number.isSafeInteger(value)) fail(spec, "integer too large");
  return { kind: "int", value };
}

function repeat(spec: string, list: Value[], times: number): Value {
  // Python: a list times a non-positive int is the empty list.
  if (times <= 0 || list.length === 0) return { kind: "list", items: [] };
  if (list.length * times > MAX_LIST_LENGTH) fail(spec, `intermediate list longer than ${MAX_LIST_LENGTH}`);
  const out: Value[] = [];
  for (let t = 0; t < times; t++) out.push(...list);
  return listOf(spec, out);
}

/** Recursive descent over Python's precedence: `+` < `*` < `**` (right-associative) < atoms. */
function evaluate(spec: string, tokens: Token[]): Value {
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const isOp = (text: string): boolean => {
    const t = peek();
    return t !== undefined && t.kind === "op" && t.text === text;
  };
  const expect = (text: string): void => {
    const t = peek();
    if (!isOp(text)) {
      fail(spec, t ? `expected "${text}" at position ${t.pos}, found "${t.text}"` : `expected "${text}" at the end`);
    }
    at++;
  };

  function sum(): Value {
    let left = product();
    while (isOp("+")) {
      at++;
      const right = product();
      if (left.kind === "int" && right.kind === "int") left = safeInt(spec, left.value + right.value);
      else if (left.kind === "list" && right.kind === "list") left = listOf(spec, [...left.items, ...right.items]);
      else fail(spec, `cannot add ${describe(left)} and ${describe(right)}`);
    }
    return left;
  }

  function product(): Value {
    let left = power();
    while (isOp("*")) {
      at++;
      const right = power();
      if (left.kind === "int" && right.kind === "int") left = safeInt(spec, left.value * right.value);
      else if (left.kind === "list" && right.kind === "int") left = repeat(spec, left.items, right.value);
      else if (left.kind === "int" && right.kind === "list") left = repeat(spec, right.items, left.value);
      else fail(spec, "cannot multiply a list by a list");
    }
    return left;
  }

  function power(): Value {
    const base = atom();
    if (!isOp("**")) return base;
    at++;
    const exponent = power();
    if (base.kind !== "int" || exponent.kind !== "int") fail(spec, "** needs two integers");
    return safeInt(spec, base.value ** exponent.value);
  }

  function atom(): Value {
    const t = peek();
    if (t === undefined) fail(spec, "unexpected end of expression");
    if (t.kind === "int") {
      at++;
      return safeInt(spec, Number(t.text));
    }
    if (t.text === "(") {
      at++;
      const inner = sum();
      // "(x,)" would be a tuple in Python, which cannot be added to a list: reject it here.
      if (isOp(",")) fail(spec, `tuples are not layer patterns (comma at position ${peek()?.pos})`);
      expect(")");
      return inner;
    }
    if (t.text === "[") {
      at++;
      const items: Value[] = [];
      while (!isOp("]")) {
        items.push(sum());
        if (isOp(",")) at++;
        else if (!isOp("]")) {
          const next = peek();
          fail(spec, next ? `expected "," or "]" at position ${next.pos}` : `unclosed "[" at position ${t.pos}`);
        }
      }
      at++;
      return listOf(spec, items);
    }
    fail(spec, `unexpected "${t.text}" at position ${t.pos}`);
  }

  const result = sum();
  const rest = peek();
  if (rest) fail(spec, `unexpected "${rest.text}" at position ${rest.pos}`);
  return result;
}

/** parseMoeLayerFreq turns Megatron's moe_layer_freq (int N, "N", or a Python list expression) into one flag per layer, true = MoE. */
export function parseMoeLayerFreq(spec: string | number | undefined, numLayers: number): boolean[] {
  if (!Number.isInteger(numLayers) || numLayers < 1) {
    throw new InvalidInput(`num_layers must be a positive integer, got ${numLayers}`, "num_layers");
  }
  let every: number | undefined;
  if (spec === undefined) every = 1;
  else if (typeof spec === "number") every = spec;
  else if (!spec.includes("[")) {
    // Megatron calls int() on anything without "[": surrounding whitespace is fine, anything else is not.
    const trimmed = spec.trim();
    if (!/^[+-]?\d+$/.test(trimmed)) fail(spec, 'expected an integer N or a list expression such as "([0]+[1]*23)"');
    every = Number(trimmed);
  }
  if (every !== undefined) {
    // N <= 0 makes Megatron divide by zero or build a nonsense pattern; it is never a real run.
    if (!Number.isInteger(every) || every < 1) {
      throw new InvalidInput(`moe_layer_freq must be a positive integer N (one MoE layer every N), got ${every}`, FIELD);
    }
    const n = every;
    return Array.from({ length: numLayers }, (_, i) => i % n === 0);
  }

  const text = spec as string;
  const value = evaluate(text, tokenize(text));
  if (value.kind !== "list") fail(text, "the expression must evaluate to a list");
  const flags = value.items.map((item, i) => {
    if (item.kind !== "int" || (item.value !== 0 && item.value !== 1)) {
      fail(text, `element ${i} is ${item.kind === "int" ? item.value : "a list"}, expected 0 (dense) or 1 (MoE)`);
    }
    return item.value === 1;
  });
  if (flags.length !== numLayers) {
    throw new InvalidInput(
      `moe_layer_freq "${text}" has ${flags.length} entries but num_layers is ${numLayers}: the pattern needs one entry per layer`,
      FIELD,
    );
  }
  return flags;
}

/** moeLayerNumbers lists the 1-based global layer numbers (Megatron's layer_number) that are MoE layers in this run. */
export function moeLayerNumbers(config: RunConfig): number[] {
  const out: number[] = [];
  if (moeLayoutUnknown(config)) return out;
  parseMoeLayerFreq(config.moe_layer_freq, config.num_layers).forEach((isMoe, i) => {
    if (isMoe) out.push(i + 1);
  });
  return out;
}
