// Issue 13, "Hostile input": numbers and options. Every number a person can type (command-line
// options, seeds, scenario keys, torture --config pins, the debugger's arguments and
// expressions) is read by one parser per kind (src/numbers.ts) with a stated range: garbage is
// refused with one line, nothing wraps, nothing is rounded past 2^53, and every seed or replay
// command that is printed reads back to the same run. docs/numbers.md lists the rules.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { runMain } from "../cli-child.js";
import { parseDuration, parseInteger, parseSeed, seedValue, shown, U64_MAX } from "../../src/numbers.js";
import { makePlan, parsePins, describeConfig, PlanError } from "../../src/torture/plan.js";
import { iterationCount, iterationsOf, replayCommand } from "../../src/torture/campaign.js";
import type { IterationResult } from "../../src/torture/run.js";
import { loadScenario } from "../../src/scenario/scenario.js";
import { ScenarioErrors } from "../../src/scenario/schema.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { fullState } from "../debug/state.js";

const cli = (...args: string[]) => runMain(args);

/** Garbage no integer option takes. */
const NOT_INTEGERS = ["", "1e3", "0x", "0x10", "-0", "-1", "+1", " 5", "5 ", "5abc", "1.0", "1_000", "99999999999999999999999"];
/** Garbage no seed takes (0x10 is a seed: seeds may be hex). */
const NOT_SEEDS = [
  "", "1e3", "0x", "0xg", "0x1ffffffffffffffff", "18446744073709551616", "-0", "-1",
  " 5", "5abc", "1.0", "1_000", "99999999999999999999999",
];

const stringify = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));

describe("1. run -h and numeric options", () => {
  it("run -h shows run's help, never taken as a program path; a program's own -h stays its argument", async () => {
    for (const args of [["run", "-h"], ["run", "--help"], ["run", "--stats", "-h"], ["run", "--max-insns", "5", "-h"],
      ["run", "-h", "prog"]]) {
      const r = (await cli(...args));
      expect(r, args.join(" ")).toMatchObject({ code: 0, err: "" });
      expect(r.out, args.join(" ")).toMatch(/^usage: tramplab run \[OPTIONS\]\n/);
    }
    // Everything from the program on is the program's; -- ends the options explicitly.
    expect((await cli("run", "/nonexistent/prog", "-h"))).toEqual({
      code: 2, out: "", err: "tramplab: /nonexistent/prog: cannot read (ENOENT)\n",
    });
    expect((await cli("run", "--", "-h"))).toEqual({ code: 2, out: "", err: "tramplab: -h: cannot read (ENOENT)\n" });
  });

  it("--max-insns 0 is refused (the range is 1 to 2^64-1); 2^64-1 is taken, 2^64 is not", async () => {
    expect((await cli("run", "--max-insns", "0", "prog"))).toEqual({
      code: 2, out: "",
      err: "tramplab run: --max-insns needs an integer from 1 to 18446744073709551615, got 0 (see 'tramplab run --help')\n",
    });
    expect((await cli("run", "--max-insns", "18446744073709551615", "/nonexistent/prog")).err)
      .toBe("tramplab: /nonexistent/prog: cannot read (ENOENT)\n");
    expect((await cli("run", "--max-insns", "18446744073709551616", "prog")).err)
      .toMatch(/^tramplab run: --max-insns needs an integer from 1 to 18446744073709551615, got 18446744073709551616 /);
  });

  it("every numeric option refuses every kind of garbage with one line and exit 2", async () => {
    const options: [string, string, string[], string[]][] = [
      ["run", "--cpus", [], NOT_INTEGERS], ["run", "--trace-lines", [], NOT_INTEGERS], ["run", "--max-insns", ["prog"], NOT_INTEGERS],
      ["run", "--time", [], NOT_INTEGERS], ["run", "--seed", [], NOT_SEEDS],
      ["debug", "--cpus", [], NOT_INTEGERS], ["debug", "--seed", [], NOT_SEEDS],
      ["scenario", "--seed", ["a.yaml"], NOT_SEEDS],
      ["torture", "--seed", [], NOT_SEEDS], ["torture", "--iterations", [], NOT_INTEGERS], ["torture", "--iteration", [], NOT_INTEGERS],
      ["torture", "--shard", [], [...NOT_INTEGERS.map((v) => `${v}/2`), ...NOT_INTEGERS.map((v) => `1/${v}`), "1/2/3", "0/0", "3/2"]],
    ];
    for (const [cmd, opt, rest, values] of options) {
      for (const v of values) {
        const r = (await cli(cmd, `${opt}=${v}`, ...rest));
        const what = `${cmd} ${opt}=${JSON.stringify(v)}`;
        expect(r.code, what).toBe(2);
        expect(r.out, what).toBe("");
        expect(r.err, what).toMatch(new RegExp(`^tramplab ${cmd}: ${opt} needs [^\\n]*, got ${escape(shown(v))} ` +
          `\\(see 'tramplab ${cmd} --help'\\)\\n$`));
      }
    }
  });

  it("an error echoing a value with spaces or control characters is still one line, the value quoted", async () => {
    expect((await cli("run", "--cpus", "5\n6")).err)
      .toBe(`tramplab run: --cpus needs an integer from 1 to 64, got "5\\n6" (see 'tramplab run --help')\n`);
    expect((await cli("run", "--cpus", " 5")).err)
      .toBe(`tramplab run: --cpus needs an integer from 1 to 64, got " 5" (see 'tramplab run --help')\n`);
    expect((await cli("run", "--preempt", "a\rb")).err)
      .toBe(`tramplab run: --preempt must be one of none, voluntary, full, lazy, got "a\\rb" (see 'tramplab run --help')\n`);
  });

  it("run --help states the range of every numeric option", async () => {
    const help = (await cli("run", "--help")).out;
    for (const [opt, range] of [["--cpus", "1 to 64"], ["--seed", "0 to 2^64-1"], ["--time", "at most"],
      ["--trace-lines", "0 to 1000000"], ["--max-insns", "1 to 2^64-1"]]) {
      const text = help.slice(help.indexOf(`  ${opt} `)).split(/\n {2}--/)[0];
      expect(text, opt).toContain(range);
    }
    expect((await cli("torture", "--help")).out).toMatch(/--iterations N +iterations 0\.\.N-1, N from 1 to 2\^64-1/);
  });
});

/** A regular expression matching `s` literally. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

describe("2. seeds are 64-bit everywhere, one rule, and what is printed replays", () => {
  it("the seed parser: decimal or 0x hex, 0 to 2^64-1, nothing else", async () => {
    expect(parseSeed("0")).toBe(0n);
    expect(parseSeed("007")).toBe(7n);
    expect(parseSeed("4294967297")).toBe(4294967297n);
    expect(parseSeed("18446744073709551615")).toBe(U64_MAX);
    expect(parseSeed("0xffffffffffffffff")).toBe(U64_MAX);
    expect(parseSeed("0X00000000000000000000002a")).toBe(42n);
    for (const v of NOT_SEEDS) expect(parseSeed(v), v).toBeUndefined();
    expect(() => seedValue(-1)).toThrow(RangeError);
    expect(() => seedValue(2 ** 53 + 2)).toThrow(RangeError);
    expect(() => seedValue(1.5)).toThrow(RangeError);
    expect(() => seedValue(U64_MAX + 1n)).toThrow(RangeError);
    expect(seedValue(7)).toBe(7n);
  });

  it("torture: seeds and iterations that differ only above bit 31, or in bit 63, give different plans", async () => {
    const plan = (seed: bigint, iteration: bigint) => stringify({ ...makePlan(seed, iteration), seed: 0, iteration: 0 });
    const seeds = [1n, 4294967297n, 1n + (1n << 63n), U64_MAX, 0n];
    const bySeed = seeds.map((s) => plan(s, 0n));
    expect(new Set(bySeed).size).toBe(seeds.length);
    const iterations = [1n, 4294967297n, 1n + (1n << 63n), U64_MAX];
    const byIteration = iterations.map((i) => plan(1n, i));
    expect(new Set(byIteration).size).toBe(iterations.length);
    // And a plan is still a pure function of the two numbers.
    expect(plan(U64_MAX, U64_MAX)).toBe(plan(U64_MAX, U64_MAX));
  });

  it("torture: the printed seed and replay command read back to the same plan, through the command line", async () => {
    const plan = makePlan(U64_MAX, U64_MAX - 1n, parsePins("cpus=02,timeslice=007,preempt=none,release=kernel"));
    const command = replayCommand({ plan } as IterationResult);
    expect(command).toBe("tramplab torture --seed 18446744073709551615 --iteration 18446744073709551614 " +
      "--config cpus=2,timeslice=7,preempt=none,release=kernel --verbose");
    const r = (await cli(...command.split(" ").slice(1)));
    expect(r.err).toBe("");
    expect(r.out).toContain(describeConfig(plan.config));
    // The campaign header prints the seed as given in hex, in decimal, which reads back.
    const header = (await cli("torture", "--seed", "0xffffffffffffffff", "--iterations", "18446744073709551615",
      "--shard", "18446744073709551615/18446744073709551615", "--config", "cpus=1"));
    expect(header.out.split("\n")[0])
      .toBe("torture: seed 18446744073709551615, 1 iteration(s) (shard 18446744073709551615/18446744073709551615 of 18446744073709551615)");
    expect(parseSeed("18446744073709551615")).toBe(U64_MAX);
  }, 300_000);

  it("torture: campaigns of up to 2^64-1 iterations are counted and walked lazily, shards without overlap", async () => {
    expect(iterationCount({ iterations: U64_MAX })).toBe(U64_MAX);
    expect(iterationCount({ iterations: U64_MAX, shard: { index: 3n, count: 7n } })).toBe((U64_MAX - 3n) / 7n + 1n);
    const walk = iterationsOf({ iterations: U64_MAX, shard: { index: 3n, count: 7n } });
    expect([walk.next().value, walk.next().value, walk.next().value]).toEqual([2n, 9n, 16n]);
    const all = [1n, 2n, 3n, 4n, 5n, 6n, 7n].flatMap((index) => [...iterationsOf({ iterations: 100n, shard: { index, count: 7n } })]);
    expect(all.sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    for (const index of [1n, 5n, 7n]) {
      expect(iterationCount({ iterations: 100n, shard: { index, count: 7n } }))
        .toBe(BigInt([...iterationsOf({ iterations: 100n, shard: { index, count: 7n } })].length));
    }
    expect(iterationCount({ iterations: 2n, shard: { index: 5n, count: 7n } })).toBe(0n);
  });

  it("run and debug: the interleaving's seed counts every bit (seed 1, 2^32+1, 2^63+1 and 2^64-1 are four runs)", async () => {
    // Short quanta and 3 ms: long enough for the two vCPUs' interleaving to show in the state.
    const state = (seed: number | bigint) => {
      const k = Kernel.boot({ cpus: 2, seed, quantum: 400 });
      k.run(3_000_000n);
      return fullState(k);
    };
    const runs = [1n, 4294967297n, (1n << 63n) + 1n, U64_MAX].map(state);
    expect(new Set(runs).size).toBe(4);
    expect(state(1)).toBe(runs[0]);
  });

  it("scenario machine.seed: 64-bit, exact past 2^53, decimal or hex, garbage refused at its position", async () => {
    const load = (seed: string) => loadScenario("seed.yaml", `machine: { cpus: 1, seed: ${seed} }\nsteps:\n  - boot\n`);
    expect(load("18446744073709551615").machine.seed).toBe(U64_MAX);
    expect(load("0xffffffffffffffff").machine.seed).toBe(U64_MAX);
    expect(load("9007199254740993").machine.seed).toBe(9007199254740993n);
    expect(load("4294967297").machine.seed).toBe(4294967297n);
    expect(load('"42"').machine.seed).toBe(42n);
    for (const v of ["18446744073709551616", "1e3", "-0", "-1", "5abc", "1.0", "1_000", '" 5"', ".inf", "true", "[1]"]) {
      expect(() => load(v), v).toThrow(ScenarioErrors);
      try { load(v); } catch (e) {
        expect((e as ScenarioErrors).errors.map((x) => x.line), v)
          .toEqual(["seed.yaml:1:27: machine.seed must be an integer from 0 to 18446744073709551615 (decimal, or hex with 0x)"]);
      }
    }
  });

  it("scenario --seed: 64-bit, hex or decimal the same run, and the replay command printed reads back to the same run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tramplab-numbers-"));
    const file = join(dir, "seeded.yaml");
    // An expectation that fails, so that the report ends with the seed and the replay command.
    writeFileSync(file, "machine: { cpus: 2, seed: 3 }\nsteps:\n  - boot\n  - run: 200us\nexpect:\n  - poke: { batches: 1 }\n");
    const hex = (await cli("scenario", "--seed", "0xffffffffffffffff", file));
    expect(hex.code).toBe(1);
    const last = hex.out.trimEnd().split("\n").at(-1)!;
    expect(last).toBe(`seed 18446744073709551615; replay: tramplab scenario ${file} --seed 18446744073709551615`);
    const replay = (await cli(...last.slice(last.indexOf("replay: tramplab ") + "replay: tramplab ".length).split(" ")));
    expect(replay).toEqual(hex);
  });

  it("the fuzz campaign's --seed follows the same rule (20 digits past 2^64 used to wrap)", async () => {
    const fuzz = join(projectRoot, "dist", "test", "diff", "fuzz-cli.js");
    for (const v of ["99999999999999999999", "18446744073709551616", "0x1ffffffffffffffff", "0x", "-1", "1e3"]) {
      const r = spawnSync(process.execPath, [fuzz, `--seed=${v}`, "--count", "1"], { encoding: "utf8", timeout: 60_000 });
      expect(r.status, v).toBe(2);
      expect(r.stdout, v).toBe("");
      expect(r.stderr, v).toBe(`fuzz: --seed needs an integer from 0 to 18446744073709551615 (decimal, or hex with 0x), ` +
        `got ${v} (see 'npm run fuzz -- --help')\n`);
    }
  });
});

describe("3. the debugger's numbers: C's uint64_t arithmetic, bounded arguments", () => {
  const session = () => {
    const k = Kernel.boot({ cpus: 2 });
    const s = new Session(new Engine(k));
    s.execute("run 20us");
    return { k, s };
  };

  it("every operator, cast, literal and read evaluates as C's unsigned 64-bit arithmetic does", async () => {
    const { s } = session();
    const cases: [string, string][] = [
      ["18446744073709551615", "18446744073709551615"], ["0xffffffffffffffff + 2", "1"], ["-1", "18446744073709551615"],
      ["1 << 63", "9223372036854775808"], ["(1 << 63) * 2", "0"], ["0 - 1 == 0xffffffffffffffff", "1"],
      ["-7 / 2", "9223372036854775804"], ["-7 % 2", "1"], ["7 / 2", "3"], ["7 % 3", "1"],
      ["0xf0 >> 4", "15"], ["-1 >> 63", "1"], ["1 << 0", "1"], ["1 >> 63", "0"],
      ["-1 > 1", "1"], ["1 < -1", "1"], ["-1 >= -1", "1"], ["2 <= 1", "0"], ["3 != 3", "0"],
      ["0x0f & 0x3c", "12"], ["0x0f | 0x30", "63"], ["0x0f ^ 0xff", "240"], ["~0", "18446744073709551615"], ["~0xffffffffffffffff", "0"],
      ["!5", "0"], ["!0", "1"], ["+5", "5"], ["- -5", "5"],
      ["(u8)0x1ff", "255"], ["(u16)-1", "65535"], ["(u32)-1", "4294967295"], ["(u64)-1", "18446744073709551615"],
      ["(s8)0x80", `${(1n << 64n) - 128n}`], ["(s32)0x7fffffff", "2147483647"], ["(s16)0x18000 == (s16)0x8000", "1"],
      ["010", "8"], ["0x10", "16"], ["0b101", "5"], ["10ull", "10"], ["10UL", "10"], ["0", "0"], ["00", "0"],
      ["2 + 3 * 4", "14"], ["(2 + 3) * 4", "20"], ["1 + 2 << 3", "24"], ["1 | 2 ^ 3 & 4", "3"],
      ["0 && 1/0", "0"], ["1 || 1/0", "1"], ["0 && *0", "0"], ["1 && 2", "1"],
      ["$rsp - $rsp", "0"], ["work_top - work_top", "0"], ["$eax == ($rax & 0xffffffff)", "1"],
      ["*(u32*)$rsp == (*$rsp & 0xffffffff)", "1"], ["{u16}$rsp == (u16)*$rsp", "1"], ["*(s8*)$rsp == (s8)*$rsp", "1"],
    ];
    for (const [expr, value] of cases) expect(s.execute(`p ${expr}`).text, expr).toMatch(new RegExp(`^\\$\\d+ = ${value}$`));
    expect(s.execute("p/d -1").text).toMatch(/^\$\d+ = -1$/);
    expect(s.execute("p/d (s8)0x80").text).toMatch(/^\$\d+ = -128$/);
    expect(s.execute("p/x -1").text).toMatch(/^\$\d+ = 0xffffffffffffffff$/);
  });

  it("what C leaves undefined, and literals past 64 bits, are one error line each; nothing changes", async () => {
    const { k, s } = session();
    const before = fullState(k);
    const n = Number(/^\$(\d+)/.exec(s.execute("p 1").text)![1]);
    const cases: [string, RegExp][] = [
      ["99999999999999999999999999999999999999", /^error: number 99999999999999999999999999999999999999 does not fit in 64 bits/],
      ["18446744073709551616", /does not fit in 64 bits/], ["0x10000000000000000", /does not fit in 64 bits/],
      ["0b1" + "0".repeat(64), /does not fit in 64 bits/], ["02000000000000000000000", /does not fit in 64 bits/],
      ["1<<9999", /^error: shift count 9999 is not below 64/], ["1 >> 64", /shift count 64 is not below 64/],
      ["1 << -1", /shift count 18446744073709551615 is not below 64/],
      ["1/0", /^error: division by zero$/], ["1%0", /^error: division by zero$/], ["5 / (3 - 3)", /division by zero/],
      ["08", /bad number "08" \(a leading 0 makes it octal/], ["0x", /bad number "0x"/], ["1e3", /bad number "1e3"/],
      ["5abc", /bad number "5abc"/], ["1.5", /bad number "1.5"/], ["10uu", /bad number "10uu"/],
      ["{u128}0", /\{TYPE\}ADDR needs one of u8/], ["(u32 1", /missing \)/], ["(u32*)", /ends too early/],
      ["*0x10", /cannot access memory at address 0x10$/], ["*0x0000ffff81000000", /cannot access memory at address 0xffff81000000$/],
      ["(".repeat(300) + "1" + ")".repeat(300), /nested more than 200 deep/], ["-".repeat(300) + "1", /nested more than 200 deep/],
      ["1" + "+1".repeat(3000), /longer than 4096 tokens/],
    ];
    for (const [expr, error] of cases) {
      const out = s.execute(`p ${expr}`).text;
      expect(out, expr).toMatch(/^error: [^\n]+$/);
      expect(out, expr).toMatch(error);
    }
    expect(s.execute("p 2").text).toBe(`$${n + 1} = 2`); // no value was recorded by a failed p
    expect(s.execute("page 0x0000ffff81000000").text).toContain("not a canonical address");
    expect(s.execute("set {u64}0x0000ffff81000000 = 0").text)
      .toBe("error: cannot access memory at address 0xffff81000000: a non-canonical address");
    expect(fullState(k)).toBe(before);
  });

  it("a breakpoint condition is checked when set but not evaluated: 1/$rax is fine while $rax is 0", async () => {
    const { s } = session();
    s.execute("set $rax = 0");
    expect(s.execute("b work_top if 1 / $rax").text).toMatch(/^Breakpoint 1 at 0x[0-9a-f]+ <work_top> if 1 \/ \$rax$/);
    expect(s.execute("b work_top if $nosuch").text).toBe("error: no register $nosuch");
    expect(s.execute("b work_top if (1").text).toBe("error: missing ) to close (");
  });

  it("the debugger's other numbers (counts, TIME, vCPU, breakpoint and display numbers) are bounded, one error line each", async () => {
    const { k, s } = session();
    s.execute("b work_top");
    s.execute("display $rax");
    const before = fullState(k);
    const bad = [
      "si 1e3", "si 0x10", "si -0", "si 5abc", "si 0", "si 1000000001", "si 99999999999999999999", "ni 1e3", "ni 0",
      "x/0x $sp", "x/65537x $sp", "x/1e3x $sp", "x/99999999999999999999x $sp", "p/2x 1", "display/3x 1",
      "run 1e3", "run 5.5ms", "run 1000001s", "run 99999999999999999999s", "run -1", "run 0x10", "run 5ms 6",
      "cpu 2", "cpu -0", "cpu 0x1", "cpu 1e0", "cpu",
      "delete 0", "delete 1e0", "delete 99999999999999999999", "delete 1 x", "enable -1", "disable 0x1", "delete 42",
      "undisplay 1e0", "undisplay 1 3", "poke log 0", "poke log 1e3", "poke log 5 6", "recursion 0x10", "recursion 0",
      "ftrace trace 1e3", "ftrace trace -1", "ftrace trace 1 2",
    ];
    for (const cmd of bad) expect(s.execute(cmd).text, cmd).toMatch(/^error: [^\n]+$/);
    expect(s.execute("si 0x10").text).toBe('error: si takes an integer from 1 to 1000000000, got "0x10"');
    expect(s.execute("x/65537x $sp").text).toBe('error: x/65537x: the count must be an integer from 1 to 65536, got "65537"');
    expect(s.execute("run 1000001s").text)
      .toBe("error: run needs a duration like 50ms, 200us, 1s or a plain number of ns, at most 1000000s, got 1000001s");
    expect(s.execute("delete 99999999999999999999").text)
      .toBe('error: a breakpoint number must be an integer from 1 to 4294967295, got "99999999999999999999"');
    expect(fullState(k)).toBe(before);
    // Nothing was deleted or undisplayed by a command that failed half-way.
    expect(s.execute("info breakpoints").text).toMatch(/^Num +Type.*\n1 +breakpoint +keep y +0x/);
    expect(s.execute("info display").text).toBe("1: / $rax");
    // The edges of the ranges are taken.
    expect(s.execute("cpu 01").text).toMatch(/^\[cpu1/);
    expect(s.execute("x/2xg $sp").text).toMatch(/^0x[0-9a-f]+( <[^>]+>)?:\t0x[0-9a-f]{16}\t0x[0-9a-f]{16}$/);
    expect(s.execute("poke log 1000000").text).not.toMatch(/^error/);
  });
});

describe("4. every other number: scenario keys, torture --config, durations, counts", () => {
  const scenario = (machine: string, steps = "", expect_ = "") =>
    `machine: { ${machine} }\nops:\n  slow: { tracer: slow, filter: victim_traced }\nsteps:\n  - boot\n${steps}${expect_}`;
  const errorsOf = (text: string): string[] => {
    try { loadScenario("n.yaml", text); return []; } catch (e) {
      if (!(e instanceof ScenarioErrors)) throw e;
      return e.errors.map((x) => x.message);
    }
  };

  it("the integer parser: digits only, any length of leading zeros, nothing past max parsed", async () => {
    expect(parseInteger("007", 0, 10)).toBe(7n);
    expect(parseInteger("0".repeat(1_000_000) + "5", 0, 10)).toBe(5n);
    expect(parseInteger("9".repeat(1_000_000), 0n, U64_MAX)).toBeUndefined();
    expect(parseInteger("18446744073709551615", 0n, U64_MAX)).toBe(U64_MAX);
    expect(parseInteger("9007199254740993", 0n, U64_MAX)).toBe(9007199254740993n);
    for (const v of NOT_INTEGERS) expect(parseInteger(v, 0n, U64_MAX), v).toBeUndefined();
    expect(parseInteger("11", 0, 10)).toBeUndefined();
    expect(parseInteger("4", 5, 10)).toBeUndefined();
  });

  it("durations: a number, optionally one space and a unit, at most 1000000s; jiffies only where a machine has them", async () => {
    const ok: [string, bigint][] = [["0", 0n], ["50ms", 50_000_000n], ["5 ms", 5_000_000n], ["200us", 200_000n], ["1s", 1_000_000_000n],
      ["1000000s", 10n ** 15n], ["1000000000000000", 10n ** 15n], ["3ns", 3n]];
    for (const [text, ns] of ok) expect(parseDuration(text), text).toBe(ns);
    expect(parseDuration("5 jiffies", 20_000)).toBe(100_000n);
    expect(parseDuration("1 jiffy", 20_000)).toBe(20_000n);
    for (const v of ["5 jiffies", "1000001s", "1000000000000001", "5.5ms", "1e3", "0x10",
      " 5ms", "5ms ", "5  ms", "-1", "5 minutes", "ms", "", "1_000"]) {
      expect(parseDuration(v), v).toBeUndefined();
    }
    expect(parseDuration("50000000001 jiffies", 20_000)).toBeUndefined();
  });

  it("scenario integer keys read the text as written: 1e3, 0x10, -0, 1_000 and 5abc are refused " +
    "wherever YAML would take them", async () => {
    for (const key of ["cpus", "quantum", "timeslice", "tick-period"]) {
      for (const v of ["1e3", "0x10", "-0", "1_000", "5abc", "1.0", '" 5"', ".nan", "99999999999999999999999"]) {
        expect(errorsOf(scenario(`${key}: ${v}`)), `${key}: ${v}`)
          .toEqual([expect.stringMatching(new RegExp(`^machine\\.${key} must be an integer from \\d+ to \\d+$`))]);
      }
    }
    expect(errorsOf(scenario("cpus: 064"))).toEqual([]);
    expect(errorsOf(scenario("cpus: 2", "  - interrupt: { cpu: 1e0, vector: timer }\n")))
      .toEqual(["interrupt.cpu must be an integer from 0 to 63"]);
  });

  it("scenario durations and counts: bounded, exact past 2^53, garbage refused", async () => {
    expect(errorsOf(scenario("cpus: 1", "  - run: 1e3\n"))[0])
      .toBe('run must be a duration: a number of ns, 250us, 5ms, 1s or "N jiffies"');
    expect(errorsOf(scenario("cpus: 1", "  - run: 1000001s\n"))).toHaveLength(1);
    expect(errorsOf(scenario("cpus: 1", "  - run: 99999999999999999999 jiffies\n"))).toHaveLength(1);
    expect(errorsOf(scenario("cpus: 1", "  - run: -0\n"))).toHaveLength(1);
    // A scenario's durations are also at most 10 s (test/hostile/long-runs.test.ts).
    expect(errorsOf(scenario("cpus: 1", "  - run: 1000000s\n"))).toEqual(["run can be at most 10 s of virtual time, got 1000000s"]);
    expect(errorsOf(scenario("cpus: 1", "  - run: 10s\n"))).toEqual([]);
    expect(errorsOf(scenario("cpus: 1, soft-lockup: 1e9"))).toHaveLength(1);
    const s = loadScenario("n.yaml", scenario("cpus: 1", "  - interrupt: { cpu: 0, vector: timer, at-insn: 9007199254740993 }\n",
      "expect:\n  - poke: { batches: 18446744073709551615, int3-hits: { min: 9007199254740993 } }\n"));
    expect(s.steps[1]).toMatchObject({ kind: "interrupt", atInsn: 9007199254740993n });
    expect(s.expectations[0]).toMatchObject({
      kind: "poke", batches: { min: U64_MAX, max: U64_MAX }, int3Hits: { min: 9007199254740993n },
    });
    const poke = (v: string) => errorsOf(scenario("cpus: 1", "", `expect:\n  - poke: { batches: ${v} }\n`));
    expect(poke("18446744073709551616")).toEqual(["poke.batches must be an integer from 0 to 18446744073709551615"]);
    expect(poke("1e3")).toEqual(["poke.batches must be an integer from 0 to 18446744073709551615"]);
    expect(poke('"5abc"')).toEqual(["poke.batches must be an integer from 0 to 18446744073709551615"]);
    expect(poke('"global work_calls[99999999999999999999]"'))
      .toEqual(["poke.batches: the index of global work_calls must be an integer from 0 to 1048576, got 99999999999999999999"]);
    expect(poke('"calls of slow / 99999999999999999999999"'))
      .toEqual(['poke.batches: "/ N" needs N from 1 to 18446744073709551615, got 99999999999999999999999']);
    expect(poke('"calls of slow / 18446744073709551615"')).toEqual([]);
  });

  it("torture --config: each key once, numbers by the same parser and within their range, " +
    "printed back in their shortest spelling", async () => {
    expect(parsePins("cpus=02,timeslice=007")).toEqual({ cpus: "2", timeslice: "7" });
    const bad: [string, RegExp][] = [
      ["cpus=2=3", /cpus must be an integer from 1 to 8, got 2=3/], ["cpus=1,cpus=2", /cpus is given twice/],
      ["timeslice=99999999999999999999", /timeslice must be an integer from 1 to 1000000 \(jiffies\), got 99999999999999999999/],
      ["timeslice=1e3", /timeslice must be/], ["timeslice=0", /timeslice must be/], ["cpus=0x2", /cpus must be/], ["cpus= 2", /got " 2"/],
      ["cpus", /"cpus" is not key=value/], ["cpus=", /"cpus=" is not key=value/],
    ];
    for (const [text, error] of bad) {
      expect(() => parsePins(text), text).toThrow(PlanError);
      expect(() => parsePins(text), text).toThrow(error);
    }
  });
});
