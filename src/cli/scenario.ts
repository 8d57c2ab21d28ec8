// tramplab scenario: runs declarative scenario files (src/scenario, docs/scenarios.md).
// Exit status: 0 every scenario passed, 1 an expectation or step failed, 2 a file is bad.
import { InputError, readInputText } from "../io.js";
import { FLAG, parseOptions, seedOption, UsageError, VALUE, type OptionSpec } from "./args.js";
import { loadScenario, runScenarioSlices, report, passed } from "../scenario/scenario.js";
import { INTERRUPTED, interruptedNote, withInterrupts } from "./interrupt.js";
import { ScenarioErrors } from "../scenario/schema.js";
import type { Scenario } from "../scenario/types.js";
import { parseListen } from "../debug/gdbstub/server.js";
import { scenarioGdb } from "./scenario-gdb.js";

export const SCENARIO_USAGE = `usage: tramplab scenario [--seed S] [--update-golden] [--verbose] FILE...
       tramplab scenario [--seed S] [--verbose] FILE --gdb [HOST:]PORT [--gdb-wait] [--gdb-step N|KIND]

  Runs each scenario file: boots the machine it describes, carries out its steps, checks its
  expectations. Every file is checked completely before anything runs.
  --seed S          interleave the vCPUs with seed S instead of the file's machine.seed
                    (0 to 2^64-1, decimal or 0x hex)
  --update-golden   rewrite the golden files the scenarios compare with (review the diff)
  --verbose         print every step, use-after-free report and ftrace bug, also on success
  --gdb [HOST:]PORT carry out the steps before --gdb-step, then serve the machine to gdb as
                    debug --gdb does (gdb: target remote :PORT; 127.0.0.1 unless HOST is given).
                    The other steps run only on gdb's "monitor scenario next"; expectations
                    are not checked. One FILE only.
  --gdb-wait        stopped at that step until gdb attaches (as qemu -S); otherwise the machine
                    runs on until then. Alone, it serves on 127.0.0.1:1234
  --gdb-step N|KIND stop before step N (1 is the first, as the report counts; one past the last:
                    after every step) or before the first step of that kind after boot
                    (e.g. unregister, rmmod); default: right after boot`;

interface Options {
  files: string[];
  seed?: bigint;
  updateGolden: boolean;
  verbose: boolean;
  help: boolean;
  gdb?: { host: string; port: number; wait: boolean; step?: string };
}

const SCENARIO_OPTIONS = {
  seed: VALUE, "update-golden": FLAG, verbose: FLAG, gdb: VALUE, "gdb-wait": FLAG, "gdb-step": VALUE,
} satisfies OptionSpec;

function parse(args: string[]): Options {
  const p = parseOptions(args, SCENARIO_OPTIONS);
  const o: Options = { files: p.positionals, updateGolden: p.flags.has("update-golden"), verbose: p.flags.has("verbose"), help: p.help };
  if (p.help) return o;
  if (p.values.has("seed")) o.seed = seedOption("--seed", p.values.get("seed"));
  if (o.files.length === 0) throw new UsageError("needs a FILE");
  if (p.values.has("gdb") || p.flags.has("gdb-wait")) {
    const v = p.values.has("gdb") ? p.values.get("gdb") ?? "" : "1234";
    const l = parseListen(v);
    if (!l) throw new UsageError(`--gdb needs [HOST:]PORT (a port 0 to 65535), got ${v ? JSON.stringify(v.slice(0, 80)) : "nothing"}`);
    if (o.files.length > 1) throw new UsageError(`--gdb serves one scenario's machine: give one FILE (got ${o.files.length})`);
    if (o.updateGolden) throw new UsageError("--gdb checks no expectation: --update-golden does not apply");
    o.gdb = { ...l, wait: p.flags.has("gdb-wait"), step: p.values.get("gdb-step") };
  } else if (p.values.has("gdb-step")) {
    throw new UsageError("--gdb-step needs --gdb");
  }
  return o;
}

export async function scenario(args: string[]): Promise<number> {
  const o = parse(args);
  if (o.help) { process.stdout.write(SCENARIO_USAGE + "\n"); return 0; }
  // Check every file before running any.
  const loaded: Scenario[] = [];
  let bad = false;
  for (const file of o.files) {
    let text: string;
    try {
      text = readInputText(file, "scenario");
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      process.stderr.write(`tramplab: ${e.message}\n`);
      bad = true;
      continue;
    }
    try {
      loaded.push(loadScenario(file, text, { updateGolden: o.updateGolden }));
    } catch (e) {
      if (!(e instanceof ScenarioErrors)) throw e;
      process.stderr.write(e.message + "\n");
      bad = true;
    }
  }
  if (bad) return 2;
  if (o.gdb) return scenarioGdb(loaded[0], { ...o.gdb, seed: o.seed, verbose: o.verbose });
  return withInterrupts(async (interrupts) => {
    let failed = 0;
    for (const [n, s] of loaded.entries()) {
      const r = await interrupts.run(runScenarioSlices(s, { seed: o.seed, updateGolden: o.updateGolden }));
      if (!r) {
        const progress = `while running ${s.file}; ${n} of ${loaded.length} scenario(s) ran, ${n - failed} passed`;
        process.stderr.write(interruptedNote("scenario", progress));
        return INTERRUPTED;
      }
      process.stdout.write(report(r, o.verbose) + "\n");
      if (!passed(r)) failed++;
    }
    if (loaded.length > 1) process.stdout.write(`${loaded.length - failed} of ${loaded.length} scenarios passed\n`);
    return failed ? 1 : 0;
  });
}
