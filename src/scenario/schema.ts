// Reading a YAML document node by node, so that every complaint names the line and column of
// the node it is about. The reader never throws on bad input: it records a ScenarioError and
// returns undefined, so one pass reports every problem in the file.
import {
  isAlias, isMap, isScalar, isSeq, LineCounter, Parser, parseDocument, type Alias, type CST, type Document, type Node, type Scalar,
} from "yaml";
import type { CountRef, Pos, Range } from "./types.js";
import { parseInteger, readDuration, parseSeed, parseSmallInt, rangeText, SEED_RULE, U64_MAX } from "../numbers.js";
import { formatTime, MAX_SCENARIO_DURATION } from "../machine/units.js";

/** The longest message of one problem: the rest of a message quoting a very long value is cut. */
const MAX_MESSAGE = 300;

export class ScenarioError extends Error {
  constructor(readonly file: string, readonly pos: Pos, message: string) {
    super(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}... (cut)` : message);
  }

  /** FILE:LINE:COL: message */
  get line(): string {
    return `${this.file}:${this.pos.line}:${this.pos.col}: ${this.message}`;
  }
}

/** Problems of one file printed at most; the count of the rest follows on one line. */
export const MAX_ERRORS_SHOWN = 50;

/** Everything that is found wrong with a file before it runs. */
export class ScenarioErrors extends Error {
  readonly errors: ScenarioError[];

  constructor(errors: ScenarioError[]) {
    const sorted = [...errors].sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
    const shown = sorted.slice(0, MAX_ERRORS_SHOWN).map((e) => e.line);
    if (sorted.length > MAX_ERRORS_SHOWN) shown.push(`${sorted[0].file}: ${sorted.length - MAX_ERRORS_SHOWN} more problems not shown`);
    super(shown.join("\n"));
    this.errors = sorted;
  }
}

/**
 * Maps and lists inside each other deeper than this are refused before the document is built
 * (the yaml package builds it recursively; the shipped scenarios nest 6 deep).
 */
export const MAX_DEPTH = 32;

/** The most nodes a file may have, each alias counted as the nodes its anchor names. */
export const MAX_NODES = 100_000;

/** A key of a map and its value, both with positions. */
export interface Field {
  key: string;
  keyAt: Pos;
  value: Node | null;
  at: Pos;
}

export class Reader {
  readonly errors: ScenarioError[] = [];
  readonly doc: Document;
  private readonly lines = new LineCounter();

  /** What each alias stands for: the node of the last anchor of its name before it. */
  private readonly aliases = new Map<Alias, Node | null>();

  constructor(readonly file: string, text: string) {
    const deep = tooDeep(text);
    if (deep) {
      this.doc = parseDocument("");
      this.errors.push(new ScenarioError(file, deep, `maps and lists nested more than ${MAX_DEPTH} deep`));
      return;
    }
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) this.errors.push(new ScenarioError(file, this.posOf(e.pos[0]), e.message.split("\n")[0]));
    if (this.errors.length === 0 && this.doc.contents) this.measure(this.doc.contents as Node);
  }

  /**
   * Counts the document's nodes, an alias as the nodes its anchor names, in document order
   * (an anchor comes before its aliases, so its node is counted by then), and records what
   * each alias stands for. A count over MAX_NODES, and an alias inside the node its own
   * anchor names, are errors: either would make reading the file endless.
   */
  private measure(root: Node): void {
    const counted = new Map<Node, number>();
    const anchors = new Map<string, Node>();
    const stack: { node: Node; kids: Node[]; next: number; size: number }[] = [];
    /** The size of a leaf or an alias; undefined for a collection (pushed, counted when its children are). */
    const enter = (node: Node): number | undefined => {
      if (isAlias(node)) {
        const target = anchors.get(node.source) ?? null;
        this.aliases.set(node, target);
        const at = this.at(node, { line: 1, col: 1 });
        if (!target) { this.fail(at, `the alias *${node.source} has no anchor &${node.source} before it`); return 1; }
        const n = counted.get(target);
        if (n === undefined) {
          this.fail(at, `the alias *${node.source} is inside the node its anchor names`);
          return Infinity;
        }
        return n;
      }
      if (node.anchor) anchors.set(node.anchor, node);
      const kids = childrenOf(node);
      if (kids.length === 0) { counted.set(node, 1); return 1; }
      stack.push({ node, kids, next: 0, size: 1 });
      return undefined;
    };
    enter(root);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next === top.kids.length) {
        stack.pop();
        counted.set(top.node, top.size);
        if (stack.length) stack[stack.length - 1].size += top.size;
        continue;
      }
      const kid = top.kids[top.next++];
      const n = enter(kid);
      if (n === Infinity) return;
      if (n !== undefined) top.size += n;
      if (top.size > MAX_NODES) {
        this.fail(this.at(kid, { line: 1, col: 1 }),
          `the file has more than ${MAX_NODES} nodes here, counting each alias as the nodes its anchor names`);
        return;
      }
    }
  }

  posOf(offset: number): Pos {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /** Where a node starts (an alias counts where it is written, not where its anchor is). */
  at(node: Node | null | undefined, fallback: Pos): Pos {
    return node?.range ? this.posOf(node.range[0]) : fallback;
  }

  fail(at: Pos, message: string): undefined {
    this.errors.push(new ScenarioError(this.file, at, message));
    return undefined;
  }

  private resolve(node: Node | null): Node | null {
    return node && isAlias(node) ? (this.aliases.get(node) ?? null) : node;
  }

  /** The fields of a map; unknown keys are reported (with the nearest known one). */
  fields(node: Node | null, at: Pos, what: string, allowed: readonly string[],
    required: readonly string[] = []): Map<string, Field> | undefined {
    const n = this.resolve(node);
    if (!n || !isMap(n)) return this.fail(this.at(node, at), `${what} must be a map of ${allowed.join(", ")}`);
    const out = new Map<string, Field>();
    for (const pair of n.items) {
      const k = pair.key as Node | null;
      const keyAt = this.at(k, this.at(n, at));
      if (!k || !isScalar(k) || typeof k.value !== "string") { this.fail(keyAt, `${what}: keys must be plain names`); continue; }
      const value = this.resolve(pair.value as Node | null);
      const valueAt = this.at(pair.value as Node | null, keyAt);
      if (!allowed.includes(k.value)) { this.fail(keyAt, `${what}: unknown key "${k.value}"${suggest(k.value, allowed)}`); continue; }
      out.set(k.value, { key: k.value, keyAt, value, at: valueAt });
    }
    for (const r of required) if (!out.has(r)) this.fail(this.at(n, at), `${what}: "${r}" is required`);
    return out;
  }

  /** The items of a sequence, with positions. */
  items(f: { value: Node | null; at: Pos }, what: string): { value: Node | null; at: Pos }[] | undefined {
    if (!f.value || !isSeq(f.value)) return this.fail(f.at, `${what} must be a list`);
    return f.value.items.map((item) => ({ value: this.resolve(item as Node | null), at: this.at(item as Node | null, f.at) }));
  }

  private scalar(f: { value: Node | null; at: Pos }): Scalar | undefined {
    return f.value && isScalar(f.value) ? f.value : undefined;
  }

  str(f: { value: Node | null; at: Pos }, what: string): string | undefined {
    const s = this.scalar(f);
    const notText = !s || s.value === null || typeof s.value === "object" || typeof s.value === "boolean";
    if (notText) return this.fail(f.at, `${what} must be a string`);
    return String(s.value);
  }

  oneOf<T extends string>(f: { value: Node | null; at: Pos }, what: string, values: readonly T[]): T | undefined {
    const s = this.scalar(f);
    const v = s && typeof s.value === "string" ? s.value : undefined;
    if (v === undefined || !values.includes(v as T)) {
      return this.fail(f.at, `${what} must be one of ${values.join(", ")}${v ? `, got "${v}"${suggest(v, values)}` : ""}`);
    }
    return v as T;
  }

  bool(f: { value: Node | null; at: Pos }, what: string): boolean | undefined {
    const s = this.scalar(f);
    if (!s || typeof s.value !== "boolean") return this.fail(f.at, `${what} must be true or false`);
    return s.value;
  }

  /**
   * A number's text as written in the file: YAML reads 1e3, 0x10 and -0 as numbers, and
   * integers past 2^53 inexactly, so the value it computed is not used. A quoted number is
   * read the same as a plain one.
   */
  private numberText(f: { value: Node | null; at: Pos }): string | undefined {
    const s = this.scalar(f);
    if (!s || (typeof s.value !== "number" && typeof s.value !== "string")) return undefined;
    return s.source ?? String(s.value);
  }

  /** A decimal integer from min to max (src/numbers.ts). */
  int(f: { value: Node | null; at: Pos }, what: string, min: number, max: number): number | undefined {
    const n = parseSmallInt(this.numberText(f), min, max);
    if (n === undefined) return this.fail(f.at, `${what} must be ${rangeText(min, max)}`);
    return n;
  }

  /** A seed: 0 to 2^64 - 1, decimal or 0x hex (src/numbers.ts, the rule every command follows). */
  seed(f: { value: Node | null; at: Pos }, what: string): bigint | undefined {
    const n = parseSeed(this.numberText(f));
    if (n === undefined) return this.fail(f.at, `${what} must be ${SEED_RULE}`);
    return n;
  }

  /**
   * Virtual time: a plain number of ns (one tick: an instruction retired), "250us", "5ms", "1s", or
   * "N jiffies" (timer periods of the scenario's machine), written as src/numbers.ts reads
   * durations; at most MAX_SCENARIO_DURATION (10 s).
   */
  duration(f: { value: Node | null; at: Pos }, what: string, jiffy: number): bigint | undefined {
    const text = this.numberText(f);
    const d = readDuration(text, { jiffy, max: MAX_SCENARIO_DURATION });
    if (d === "malformed") return this.fail(f.at, `${what} must be a duration: a number of ns, 250us, 5ms, 1s or "N jiffies"`);
    if (d === "too long") {
      return this.fail(f.at, `${what} can be at most ${formatTime(MAX_SCENARIO_DURATION)} of virtual time, got ${text}`);
    }
    return d;
  }

  /**
   * A count or duration range: a single value (exact) or { min, max }. A bound may be a count
   * of the run (CountRef), resolved when the expectation is checked.
   */
  range(f: { value: Node | null; at: Pos }, what: string,
    read: (f: Field | { value: Node | null; at: Pos }, what: string) => bigint | CountRef | undefined): Range | undefined {
    const r: Range = {};
    const set = (bound: "min" | "max", v: bigint | CountRef | undefined) => {
      if (typeof v === "object") (r.refs ??= {})[bound] = v;
      else r[bound] = v;
    };
    if (f.value && isMap(f.value)) {
      const m = this.fields(f.value, f.at, what, ["min", "max"]);
      if (!m) return undefined;
      if (m.size === 0) return this.fail(f.at, `${what} needs min, max or both`);
      const min = m.get("min"), max = m.get("max");
      if (min) set("min", read(min, `${what}.min`));
      if (max) set("max", read(max, `${what}.max`));
      if (r.min !== undefined && r.max !== undefined && r.min > r.max) return this.fail(f.at, `${what}: min is above max`);
      return r;
    }
    const v = read(f, what);
    if (v === undefined) return undefined;
    set("min", v);
    set("max", v);
    return r;
  }

  /** A count: a decimal integer from 0 to 2^64 - 1 (what a 64-bit counter can hold). */
  count(f: { value: Node | null; at: Pos }, what: string): bigint | undefined {
    const n = parseInteger(this.numberText(f), 0n, U64_MAX);
    if (n === undefined) return this.fail(f.at, `${what} must be ${rangeText(0n, U64_MAX)}`);
    return n;
  }

  /** A list of strings, or one string standing for a list of one. */
  strings(f: { value: Node | null; at: Pos }, what: string): string[] | undefined {
    if (f.value && isSeq(f.value)) {
      const out: string[] = [];
      for (const item of this.items(f, what) ?? []) {
        const s = this.str(item, `each of ${what}`);
        if (s !== undefined) out.push(s);
      }
      return out;
    }
    const s = this.str(f, `${what} (a string or a list of strings)`);
    return s === undefined ? undefined : [s];
  }
}

/** A collection's children in document order (a map's keys and values). */
function childrenOf(node: Node): Node[] {
  const out: Node[] = [];
  if (isMap(node)) {
    for (const p of node.items) {
      if (p.key) out.push(p.key as Node);
      if (p.value) out.push(p.value as Node);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) if (item) out.push(item as Node);
  }
  return out;
}

/**
 * Where the first map or list nested more than MAX_DEPTH deep starts, from the syntax tree
 * (which the yaml package's parser builds without recursion), or undefined.
 */
function tooDeep(text: string): Pos | undefined {
  const lines = new LineCounter();
  const stack: { token: CST.Token; depth: number }[] = [];
  for (const token of new Parser(lines.addNewLine).parse(text)) stack.push({ token, depth: 0 });
  let first: number | undefined;
  while (stack.length) {
    const { token, depth } = stack.pop()!;
    if (token.type === "document") {
      if (token.value) stack.push({ token: token.value, depth });
    } else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth === MAX_DEPTH) { first = Math.min(first ?? token.offset, token.offset); continue; }
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  if (first === undefined) return undefined;
  const p = lines.linePos(first);
  return { line: p.line, col: p.col };
}

/** ", did you mean "x"?" when a known name is a small edit away. */
export function suggest(word: string, known: readonly string[]): string {
  let best = "", bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
