// The guest kernel's vsnprintf (firmware/vsprintf.c), compiled natively beside glibc in one
// harness: on generated integer, character and string conversions (every flag, width and
// precision form, every length modifier, the extreme values, buffer sizes down to 0 and 1) it
// stores the same bytes, leaves the same bytes past the size untouched and returns the same
// length as glibc's vsnprintf, and vscnprintf returns the length stored. Pointers, and the
// forms where the kernel differs from C by design, are checked against the kernel's strings,
// with a fake format_symbol that knows two functions. The kernel side is built with
// -fsanitize=undefined trapping, so any undefined behaviour on these inputs ends the harness.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/paths.js";
import { FLAGS, INTEGER_CONVERSIONS, LENGTHS, SIZES, cString, generateCases } from "./vsprintf-cases.js";

const SEED = 0x76737072696e7466n;
const GENERATED = 1500;
// As in vsprintf-harness.c.
const MAX_SIZE = 512, GUARD = 8, FILL = 0xa5;

const WORK_TOP = "(void *)0xffffffff81000100UL"; // the fake symbol table: work_top, 0x40 bytes
const LLONG_MIN = "(-9223372036854775807LL - 1)";

interface KernelCase {
  format: string;
  args?: string[];
  /** What the kernel prints; null: nothing may be stored. */
  out: string | null;
  /** Default 64. */
  size?: number;
  /** Default out's length. */
  ret?: number;
}

const KERNEL_ONLY: KernelCase[] = [
  // Pointers (glibc prints them its own way).
  { format: "%px", args: [WORK_TOP], out: "ffffffff81000100" },
  { format: "%px", args: ["(void *)0"], out: "0000000000000000" },
  { format: "%p", args: ["(void *)0x1234"], out: "0000000000001234" }, // raw, where the kernel hashes
  { format: "[%20px]", args: [WORK_TOP], out: "[    ffffffff81000100]" },
  { format: "[%-20p]", args: [WORK_TOP], out: "[ffffffff81000100    ]" },
  { format: "%#px", args: [WORK_TOP], out: "0xffffffff81000100" },
  { format: "%pS", args: ["(void *)0xffffffff81000110UL"], out: "work_top+0x10/0x40" },
  { format: "%pS", args: [WORK_TOP], out: "work_top+0x0/0x40" },
  { format: "%ps", args: ["(void *)0xffffffff81000110UL"], out: "work_top" },
  { format: "%pB", args: ["(void *)0xffffffff8100007fUL"], out: "start_kernel_cpu+0x7f/0x80" },
  { format: "%pSR!", args: [WORK_TOP], out: "work_top+0x0/0x40!" },
  { format: "%pS", args: ["(void *)0xffffffff81000140UL"], out: "0xffffffff81000140" }, // past work_top's end
  { format: "%ps", args: ["(void *)0x1000"], out: "0x1000" },
  { format: "%pS", args: ["(void *)0"], out: "0x0" },
  { format: "[%-20ps]", args: [WORK_TOP], out: "[work_top            ]" },
  { format: "[%12.4ps]", args: [WORK_TOP], out: "[        work]" },
  { format: "%pS", args: [WORK_TOP], size: 5, out: "work_top+0x0/0x40" },
  { format: "%pK", args: [WORK_TOP], out: "ffffffff81000100" }, // other extensions print as %p
  { format: "%pI4x.", args: [WORK_TOP], out: "ffffffff81000100." }, // ... and their letters are skipped
  // Strings the kernel will not read.
  { format: "%s", args: ["(char *)0"], out: "(null)" },
  { format: "%.3s", args: ["(char *)0"], out: "(nu" },
  { format: "[%8s]", args: ["(char *)0"], out: "[  (null)]" },
  { format: "%s", args: ["(char *)1"], out: "(efault)" },
  { format: "%s", args: ["(char *)4095"], out: "(efault)" },
  { format: "%s", args: ["(char *)-22L"], out: "(efault)" }, // ERR_PTR(-EINVAL)
  // Where the kernel differs from C.
  { format: "[%05s][%05c][%-05c]", args: [cString("ab"), "'a'", "'b'"], out: "[   ab][    a][b    ]" },
  { format: "[%.s][%.*s]", args: [cString("abc"), "-1", cString("abc")], out: "[abc][]" },
  { format: "%.0d %.d %.0x %.*u", args: ["0", "0", "0", "-1", "0"], out: "0 0 0 0" },
  { format: "%#x %#X %#.0x %#5x", args: ["0", "0", "0", "0"], out: "0x0 0X0 0x0   0x0" },
  { format: "%05.2d %08.3d %#010.4x", args: ["1", "-5", "0x1f"], out: "00001 -0000005 0x0000001f" },
  { format: "%#.3o %#o %#5o", args: ["8", "0", "8"], out: "0010 0   010" },
  // Conversions the kernel refuses end the output there.
  { format: "a%nb%d", args: ["(int *)0", "1"], out: "a" },
  { format: "x%jd", args: ["(long)5"], out: "x" },
  { format: "[%f]", args: ["1.5"], out: "[" },
  { format: "abc%", out: "abc" },
  { format: "%5k%d", args: ["1"], out: "" },
  { format: "%llld", args: ["1LL"], out: "" },
  // %% takes flags and widths but prints one '%'.
  { format: "%5%|%-*%|%d", args: ["7", "42"], out: "%|%|42" },
  // Hostile widths and precisions are clamped to the kernel's limits.
  { format: "%*d", args: ["0x7fffffff", "1"], size: 8, out: " ".repeat(8388606) + "1" },
  { format: "%*d", args: ["(-2147483647 - 1)", "1"], size: 4, out: "1" + " ".repeat(8388606) },
  { format: "%99999999999d", args: ["1"], size: 4, out: " ".repeat(8388606) + "1" },
  { format: "%.*d", args: ["0x7fffffff", "1"], size: 4, out: "0".repeat(32766) + "1" },
  { format: "%.99999999999d", args: ["1"], size: 4, out: "0".repeat(32766) + "1" },
  // Buffer sizes: 0 stores nothing, 1 only the NUL; a size above INT_MAX is refused.
  { format: "%d-%s", args: ["42", cString("x")], size: 0, out: null, ret: 4 },
  { format: "%d-%s", args: ["42", cString("x")], size: 1, out: "42-x" },
  { format: "%lld", args: [LLONG_MIN], size: 8, out: "-9223372036854775808" },
  { format: "abc", size: 0x80000000, out: null, ret: 0 },
];

function gcc(args: string[]): void {
  execFileSync("gcc", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** The bytes a case leaves in the shown part of the buffer, as hex. */
function expectedBytes(c: KernelCase): string {
  const size = c.size ?? 64;
  const b = Buffer.alloc(size <= MAX_SIZE ? size + GUARD : GUARD, FILL);
  if (c.out !== null && size > 0) {
    const stored = Buffer.from(c.out, "latin1").subarray(0, size - 1);
    stored.copy(b);
    b[stored.length] = 0;
  }
  return b.toString("hex");
}

const latin1 = (hex: string): string => Buffer.from(hex, "hex").toString("latin1");

/** A harness buffer for a failure message: the text before the NUL, and whether bytes after it were changed. */
function shownText(hex: string): string {
  const text = latin1(hex), nul = text.indexOf("\0");
  if (nul < 0) return `${JSON.stringify(text)} (no NUL)`;
  const rest = text.slice(nul + 1);
  return JSON.stringify(text.slice(0, nul)) + ([...rest].every((ch) => ch.charCodeAt(0) === FILL) ? "" : " (bytes after the NUL changed)");
}

describe("firmware/vsprintf.c, built natively beside glibc", () => {
  const cases = generateCases(SEED, GENERATED);
  let dir = "";
  let same: string[][] = [], kernel: string[][] = [], nullbuf: string[][] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tramplab-vsprintf-"));
    const lines = [
      ...cases.map((c) => `same(${c.size}, ${[cString(c.format), ...c.args].join(", ")});`),
      ...KERNEL_ONLY.map((c) => `KERNEL(${c.size ?? 64}UL, ${[cString(c.format), ...(c.args ?? [])].join(", ")});`),
      `NULLBUF(${cString("%d-%s")}, 42, ${cString("x")});`,
    ];
    writeFileSync(join(dir, "cases.inc"), lines.join("\n") + "\n");
    const include = join(projectRoot, "firmware", "include");
    const rename = ["vsnprintf", "snprintf", "vscnprintf", "scnprintf"].map((f) => `-D${f}=kernel_${f}`);
    gcc(["-O1", "-ffreestanding", "-fno-builtin", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
      "-fsanitize=undefined", "-fsanitize-undefined-trap-on-error", ...rename, "-I", include,
      "-c", join(projectRoot, "firmware", "vsprintf.c"), "-o", join(dir, "vsprintf.o")]);
    gcc(["-O1", "-Wno-format", "-I", include, "-I", dir, join(projectRoot, "test", "module", "vsprintf-harness.c"),
      join(dir, "vsprintf.o"), "-o", join(dir, "harness")]);
    const out = execFileSync(join(dir, "harness"), { encoding: "latin1", maxBuffer: 64 << 20 }).split("\n").filter((l) => l);
    const rows = out.map((l) => l.split(" "));
    same = rows.filter((r) => r[0] === "S");
    kernel = rows.filter((r) => r[0] === "K");
    nullbuf = rows.filter((r) => r[0] === "N");
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`stores the same bytes and returns the same length as glibc on ${GENERATED} generated cases`, () => {
    expect(same).toHaveLength(GENERATED);
    const mismatches: string[] = [];
    cases.forEach((c, i) => {
      const [, kret, gret, , khex, ghex] = same[i];
      if (kret !== gret || khex !== ghex) {
        mismatches.push(`size ${c.size} ${JSON.stringify(c.format)} (${c.args.join(", ")}): ` +
          `kernel ${kret} ${shownText(khex)}, glibc ${gret} ${shownText(ghex)}`);
      }
    });
    expect(mismatches).toEqual([]);
  });

  it("vscnprintf returns the length stored: the whole output, size - 1 when cut, 0 for size 0", () => {
    const wrong = cases.flatMap((c, i) => {
      const [, kret, , sret] = same[i].map(Number);
      const stored = c.size === 0 ? 0 : Math.min(kret, c.size - 1);
      return sret === stored ? [] : [`size ${c.size} ${JSON.stringify(c.format)}: ${sret}, want ${stored}`];
    });
    expect(wrong).toEqual([]);
  });

  it("the generated cases use every conversion, length, flag, width and precision form, and sizes 0 and 1", () => {
    const all = cases.flatMap((c) => c.conversions);
    const seen = (f: (c: (typeof all)[number]) => string[]): Set<string> => new Set(all.flatMap(f));
    expect(seen((c) => [c.conv])).toEqual(new Set([...INTEGER_CONVERSIONS, "c", "s"]));
    expect(seen((c) => [c.length])).toEqual(new Set(LENGTHS));
    expect(seen((c) => [...c.flags])).toEqual(new Set(FLAGS));
    expect(seen((c) => [c.width === "*" ? (c.widthArg < 0 ? "*-" : "*") : c.width === "" ? "" : "n"]))
      .toEqual(new Set(["", "n", "*", "*-"]));
    expect(seen((c) => [c.precision.startsWith(".") && c.precision.length > 1 && c.precision !== ".*" ? ".n" : c.precision]))
      .toEqual(new Set(["", ".", ".n", ".*"]));
    expect(new Set(cases.map((c) => c.size))).toEqual(new Set(SIZES));
    for (const v of [-9223372036854775808n, 9223372036854775807n, -2147483648n, 2147483647n, 0n]) {
      expect(all.some((c) => c.value === v), `value ${v}`).toBe(true);
    }
  });

  const labelled = KERNEL_ONLY.map((c, i) => ({
    ...c, size: c.size ?? 64, i, label: `${JSON.stringify(c.format)} (${(c.args ?? []).join(", ")})`,
  }));
  it.each(labelled)("the kernel's output for $label, size $size", (c) => {
    const [, ret, scn, sameBytes, hex] = kernel[c.i];
    const size = c.size ?? 64, want = c.ret ?? c.out?.length ?? 0;
    expect(Number(ret)).toBe(want);
    expect(latin1(hex)).toBe(latin1(expectedBytes(c)));
    expect(Number(scn)).toBe(size === 0 || size > 0x7fffffff ? 0 : Math.min(want, size - 1));
    expect(sameBytes, "scnprintf stores what snprintf stores").toBe("1");
  });

  it("snprintf(NULL, 0, ...) returns the length without storing", () => {
    expect(nullbuf).toEqual([["N", "4"]]);
  });
});
