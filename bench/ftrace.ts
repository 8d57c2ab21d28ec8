// The ftrace benchmark: the argument of the 2014 thread that gave x86-64 per-ops
// dynamic trampolines, measured on tramplab's guest kernel.
//   1. what a traced call costs the guest, in exact instructions, through the list function
//      and through per-ops trampolines, for 1 to 1000 registered ops (bench/ftrace-calls.ts);
//   2. how fast tracing can be switched on and off for 10,000 sites under running vCPUs, with
//      the INT3 protocol's batches, sync rounds and emulated int3s (bench/ftrace-patch.ts).
// Run by `npm run bench` after the emulator benchmark, or alone: node dist/bench/ftrace.js
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseElf } from "../src/machine/elf.js";
import { disassemble } from "../src/machine/disasm.js";
import { SymbolTable } from "../src/machine/symbols.js";
import { CALLS_PER_ROUND, MEASURED_ROUNDS, OPS_COUNTS, runCallJobs, type CallJob } from "./ftrace-calls.js";
import { BENCH_IMAGES, buildBenchFirmware } from "./ftrace-firmware.js";
import { PATCH_CPUS, PATCH_REPEATS, patchThroughput, type PatchRun } from "./ftrace-patch.js";

/** Columns: the first left-aligned, the rest right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => "  " + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("   ")).join("\n");
}

/** One line per column: what it means. */
function legend(entries: [string, string][]): string {
  const w = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n");
}

const int = (n: number | bigint) => n.toLocaleString("en-US");
/** Instructions per call: a round's exact count over its 1000 calls, so three decimals are exact. */
const perCall = (round: bigint) =>
  (Number(round) / CALLS_PER_ROUND).toLocaleString("en-US", { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const ratio = (a: bigint, b: bigint) => {
  const r = Number(a) / Number(b);
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
};

/** The instructions of a firmware function, by mnemonic, read from the ELF image. */
function mnemonics(elf: Uint8Array, name: string): string[] {
  const image = parseElf(elf, "kernel");
  const s = SymbolTable.fromElf(image.symbols).get(name);
  const seg = s && image.segments.find((g) => s.addr >= g.vaddr && s.addr + s.size <= g.vaddr + BigInt(g.data.length));
  if (!s || !seg) return ["?"];
  const off = Number(s.addr - seg.vaddr);
  return disassemble(seg.data.subarray(off, off + Number(s.size)), s.addr)
    .map((l) => (l.text.includes("__fentry__") || /^call\s/.test(l.text) ? "call __fentry__" : l.text.split(/\s+/)[0]));
}

async function callTable(firmwarePath: string): Promise<string> {
  const traced = (trampolines: boolean): CallJob[] => OPS_COUNTS.map((nops) => ({ kind: "traced", nops, trampolines }));
  // Two groups of about equal host time (1000 ops dominate each), one per core.
  const [list, rest] = await runCallJobs(firmwarePath, [
    [...traced(false)],
    [{ kind: "untraced", withFentry: true }, { kind: "untraced", withFentry: false }, ...traced(true)],
  ]);
  const [nop, plain, ...tramp] = rest;
  const rows = [["ops", "NOP sites", "list function", "trampolines", "list/trampolines"]];
  OPS_COUNTS.forEach((n, i) => rows.push([String(n), perCall(nop), perCall(list[i]), perCall(tramp[i]), ratio(list[i], tramp[i])]));
  const elf = readFileSync(firmwarePath);
  return [
    `ftrace: guest instructions per call of a tiny function (1 vCPU, ${int(CALLS_PER_ROUND)} functions called per round;`,
    `each figure is one round's exact count / ${int(CALLS_PER_ROUND)}, and ${MEASURED_ROUNDS} successive rounds counted the same)`,
    table(rows),
    legend([
      ["ops", `ops registered; ops i filters the i-th block of ${int(CALLS_PER_ROUND)}/ops functions, ` +
        "so each call is traced by exactly one ops"],
      ["NOP sites", "tracing off: the same loop, each function's fentry site a 5-byte NOP"],
      ["list function", "useTrampolines = false: site -> ftrace_caller -> ftrace_ops_list_func, which tests every ops' filter hash"],
      ["trampolines", "useTrampolines = true: site -> its ops' own dynamic trampoline -> the callback; no list walk"],
      ["list/trampolines", "how many times more a traced call costs through the list function"],
    ]),
    `  callback: bench_ops_call, one locked increment of op->calls, so the columns differ only in how ftrace reaches it.`,
    "  The list function's hash test is a binary search over the ops' sorted sites: " +
      `1 ops holds ${int(CALLS_PER_ROUND)} of them, 1000 ops hold 1 each.`,
    `  baseline: without fentry (bench_plain_f*) a call costs ${perCall(plain)}; the NOP site adds ${perCall(nop - plain)}:`,
    `    bench_f0:       ${mnemonics(elf, "bench_f0").join("; ")}   (the call is a NOP5 until traced)`,
    `    bench_plain_f0: ${mnemonics(elf, "bench_plain_f0").join("; ")}   (no call: a leaf, so gcc omits the frame)`,
  ].join("\n");
}

function patchTable(firmware: Uint8Array): string {
  const r = patchThroughput(firmware);
  const row = (p: PatchRun) => [p.what, int(p.stats.sitesChanged), int(p.stats.batches), int(p.stats.syncs),
    (p.stats.syncs / p.stats.batches).toFixed(2), int(p.stats.ipis), int(p.stats.int3Hits), int(Number(p.ticks) / 1000), p.ms.toFixed(1)];
  const rows = [
    ["tracing", "sites", "batches", "sync rounds", "per batch", "IPIs", "int3 emulated", "virtual us", "host ms"],
    row(r.enable), row(r.disable),
  ];
  const hazards = r.hazards === 0 && r.dropped === 0
    ? `0 cross-modifying-code hazards (EventKind.HAZARD) in the ${int(r.events)} events logged ` +
      `over ${PATCH_REPEATS} enables and ${PATCH_REPEATS} disables, none dropped`
    : `WARNING: ${r.hazards} cross-modifying-code hazards (EventKind.HAZARD), ${r.dropped} events dropped unchecked`;
  return [
    `ftrace: switching tracing of all ${int(BENCH_IMAGES.patch)} bench_f* sites on and off (one FunctionCounter ops, filter "bench_f*",`,
    `its own trampoline) on ${PATCH_CPUS} vCPUs, each running a bench thread through those functions (half of them downwards)`,
    table(rows),
    legend([
      ["sites", `sites rewritten: the ${int(BENCH_IMAGES.patch)} bench sites, ` +
        "plus ftrace_call and ftrace_regs_call in the static trampolines"],
      ["batches", "text-poke batches (at most 256 sites each, sorted by address)"],
      ["sync rounds", "rounds of sync IPIs to every vCPU, waiting until each has taken it (at most 3 per batch: int3, tails, heads)"],
      ["per batch", "sync rounds / batches"],
      ["IPIs", "sync IPIs sent (sync rounds x vCPUs)"],
      ["int3 emulated", "vCPUs that executed a site while its batch was open, trapped on the int3 and had the new instruction emulated"],
      ["virtual us", "guest time the operation took (virtual time: 1 ns per instruction); each wait for a sync lets every vCPU run"],
      ["host ms", `wall-clock time of Ftrace.register / unregister, best of ${PATCH_REPEATS}; the other columns are from that run`],
    ]),
    `  ${hazards}.`,
    `  While enabled the counter saw ${int(r.tracedCalls)} calls, so the sites really were live.`,
  ].join("\n");
}

export async function ftraceBench(): Promise<void> {
  const t0 = performance.now();
  console.log("\nftrace benchmark: dynamic trampolines vs the list function");
  const log = (m: string) => console.log(`  ${m}`);
  const calls = await buildBenchFirmware("calls", log);
  const patch = await buildBenchFirmware("patch", log);
  const built = performance.now();
  // The patching timings are wall clock: run them alone, after the call measurement's workers.
  const callsText = await callTable(calls.path);
  const patchText = patchTable(patch.bytes);
  console.log("\n" + callsText + "\n\n" + patchText);
  const build = calls.cached && patch.cached ? "firmware cached" : `firmware built in ${((built - t0) / 1000).toFixed(0)} s`;
  console.log(`\n(ftrace benchmark: ${((performance.now() - built) / 1000).toFixed(0)} s, ${build})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await ftraceBench();
