#!/usr/bin/env node
// The import rules: no import circle, and no import from a lower layer up to a higher one.
// Reads every import of src/**/*.ts and assembly/**/*.ts (type-only and dynamic ones too, through
// TypeScript's own pre-processor) and every #include "..." of firmware/. Exits non-zero naming
// each problem; an import listed in KNOWN below is reported as known and does not fail the check.
//
// usage: node tools/layers.mjs [--root DIR]
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// The layers of src/, top to bottom: a file may import its own layer and the layers below it.
// Each entry is a top-level folder or file of src/.
export const LAYERS = [
  { names: ["cli", "index.ts"], why: "the faces: the command line, and the library's entry point" },
  { names: ["scenario", "torture", "debug"], why: "drivers running a kernel for a purpose: regression tests, stress runs, inspection" },
  { names: ["kernel"], why: "the control plane: what the kernel's C does around the guest (ftrace, text_poke, RCU, scheduler)" },
  { names: ["linux", "noinstr"], why: "other uses of the machine beside the kernel: Linux user programs, the noinstr section check" },
  { names: ["machine"], why: "the Machine: the wasm core's instance, vCPUs, memory, ELF images, symbols, events" },
  { names: ["gen", "numbers.ts", "io.ts", "paths.ts"], why: "foundations: generated tables, number parsing, bounded input, file paths" },
];
// assembly/ (the CPU core) and firmware/ (the guest) are each one layer of their own: their
// files call one another by topic, and only circles are wrong there.

// Imports let through while they are being removed, each { edge: "FROM -> TO", why }: an upward
// one, or one that closes a circle (the circle check leaves it out, so a new circle through other
// imports is still caught). An entry that breaks no rule any more is reported as stale. Empty
// since the layers were untangled; an entry here is a debt with its reason written down.
export const KNOWN = [];

const here = dirname(fileURLToPath(import.meta.url));

function walk(dir, ext) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return walk(p, ext);
    return ext.some((x) => e.name.endsWith(x)) ? [p] : [];
  });
}

const slash = (p) => p.split(sep).join("/");

/** The import graph: file -> the files it imports (paths relative to root, with /). */
export function importGraph(root) {
  const graph = new Map();
  const add = (file, targets) => graph.set(slash(relative(root, file)), targets.map((t) => slash(relative(root, t))));
  for (const file of [...walk(join(root, "src"), [".ts"]), ...walk(join(root, "assembly"), [".ts"])]) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const imports = importedFiles.map((i) => i.fileName).filter((n) => n.startsWith("."));
    // NodeNext spells a .ts import as .js; AssemblyScript leaves the extension off.
    add(file, imports.map((n) => {
      const p = normalize(join(dirname(file), n));
      return p.endsWith(".js") ? p.slice(0, -3) + ".ts" : existsSync(p + ".ts") ? p + ".ts" : join(p, "index.ts");
    }));
  }
  for (const file of walk(join(root, "firmware"), [".c", ".h", ".S"])) {
    const includes = [...readFileSync(file, "utf8").matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)].map((m) => m[1]);
    // "name.h" from the including file's folder, else from firmware/include (gcc -I).
    const local = (n) => join(dirname(file), n);
    add(file, includes.map((n) => [local(n), join(root, "firmware/include", n)].find((p) => existsSync(p)) ?? local(n)));
  }
  return graph;
}

/** The layer index of a src/ file (0 is the top), or undefined outside src/. */
export function layerOf(file) {
  const parts = file.split("/");
  if (parts[0] !== "src") return undefined;
  const i = LAYERS.findIndex((l) => l.names.includes(parts[1]));
  return i < 0 ? undefined : i;
}

/** Strongly connected components of more than one file (or a file importing itself), by Tarjan. */
function circles(graph) {
  let next = 0;
  const index = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  const visit = (v) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = [];
    let w;
    do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** The shortest circle through `start` inside `files`, as the files in import order. */
function shortestCircle(graph, start, files) {
  const inside = new Set(files);
  const from = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const path = [v];
        while (from.get(path[0]) !== undefined) path.unshift(from.get(path[0]));
        return [...path, start];
      }
      if (inside.has(w) && !from.has(w)) { from.set(w, v); queue.push(w); }
    }
  }
  return [start, start];
}

/** Every problem of the graph: { text, known } (known: the reason, when KNOWN lists it). */
export function check(graph, known = KNOWN) {
  const problems = [];
  const isKnown = (from, to) => known.find((x) => x.edge === `${from} -> ${to}`);
  const rest = new Map([...graph].map(([from, targets]) => [from, targets.filter((to) => !isKnown(from, to))]));
  for (const scc of circles(rest)) {
    const loop = shortestCircle(rest, scc[0], scc);
    const more = scc.filter((f) => !loop.includes(f));
    problems.push({ text: `import circle: ${loop.join(" -> ")}${more.length ? ` (the circle also takes in ${more.join(", ")})` : ""}` });
  }
  const unplaced = new Set([...graph.keys()].filter((f) => f.startsWith("src/") && layerOf(f) === undefined).map((f) => f.split("/")[1]));
  for (const name of unplaced) problems.push({ text: `src/${name} is in no layer: add it to a row of LAYERS in tools/layers.mjs` });
  for (const [from, targets] of [...graph].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const lf = layerOf(from);
    if (lf === undefined) continue;
    for (const to of new Set(targets)) {
      const lt = layerOf(to);
      if (lt === undefined || lt >= lf) continue;
      const k = isKnown(from, to);
      const what = (l) => LAYERS[l].names.join(", ");
      problems.push({ text: `upward import: ${from} -> ${to} (layer ${what(lf)} imports the higher layer ${what(lt)})`, known: k?.why });
    }
  }
  return problems;
}

/** KNOWN entries that break no rule any more: the import is gone, or it is not upward and closes no circle. */
export function stale(graph, known = KNOWN) {
  const reaches = (from, to) => {
    const seen = new Set([from]), todo = [from];
    while (todo.length) {
      for (const w of graph.get(todo.pop()) ?? []) {
        if (w === to) return true;
        if (!seen.has(w)) { seen.add(w); todo.push(w); }
      }
    }
    return false;
  };
  return known.filter((k) => {
    const [from, to] = k.edge.split(" -> ");
    if (!(graph.get(from) ?? []).includes(to)) return true;
    const upward = layerOf(from) !== undefined && layerOf(to) !== undefined && layerOf(to) < layerOf(from);
    return !upward && !reaches(to, from);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // KNOWN describes this repository; another root (a test's scratch tree) is checked without it.
  const at = process.argv.indexOf("--root");
  const root = at > 0 ? process.argv[at + 1] : join(here, "..");
  const known = at > 0 ? [] : KNOWN;
  const graph = importGraph(root);
  const problems = check(graph, known);
  const gone = stale(graph, known);
  for (const p of problems.filter((p) => !p.known)) console.log(`error: ${p.text}`);
  for (const k of known.filter((k) => !gone.includes(k))) console.log(`known: ${k.edge}\n       (${k.why})`);
  for (const k of gone) console.log(`stale: KNOWN lists ${k.edge}, which breaks no rule now: delete it from tools/layers.mjs`);
  const errors = problems.filter((p) => !p.known).length + gone.length;
  const left = known.length ? ` (${known.length} known imports left out)` : "";
  console.log(errors ? `layers: ${errors} problem(s)` : `layers: no import circle, no upward import${left}`);
  process.exit(errors ? 1 : 0);
}
