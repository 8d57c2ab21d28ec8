// tramplab build-module, run as a person runs it: sources become one relocatable object whose
// .modinfo carries the module's name and whose functions carry fentry sites; the compiler's own
// messages reach the terminal and leave nothing written (exit 1); sources that cannot be
// compiled at all are refused before gcc runs (exit 2).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync } from "node:child_process";
import {
  closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { moduleInfo, parseModuleObject } from "../../src/kernel/module/object.js";
import { layoutModule } from "../../src/kernel/module/layout.js";
import { linkModule } from "../../src/kernel/module/link.js";
import { runCli, runMain } from "../cli-child.js";
import { scratch } from "./tools.js";

let dir: string;
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

beforeAll(() => { dir = scratch(); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tramplab build-module", () => {
  it("links C and assembly sources into one ET_REL object named after OUT, with KBUILD_MODNAME and KBUILD_BASENAME", async () => {
    // Its own temporary directory (TMPDIR), to see that build-module leaves nothing there.
    const tmp = join(dir, "tmp");
    mkdirSync(tmp);
    const main = file("main-part.c", `
      static const char tags[] __attribute__((section(".modinfo"), used, aligned(1))) =
        "modname=" KBUILD_MODNAME "\\0basename=" KBUILD_BASENAME;
      extern int from_asm(void);
      int init_module(void) { return from_asm() + 1; }
    `);
    const asm = file("asm-part.S", `
      #ifndef __ASSEMBLY__
      #error not preprocessed as assembly
      #endif
      .text
      .globl from_asm
      from_asm:
        movl $41, %eax
        ret
      .section .note.GNU-stack,"",@progbits
    `);
    const out = join(dir, "my-mod.ko");
    const r = await runCli(["build-module", "-o", out, main, asm], { env: { TMPDIR: tmp } });
    expect(r).toEqual({ status: 0, signal: null, stdout: "", stderr: "" });
    const obj = parseModuleObject(new Uint8Array(readFileSync(out)), out);
    const info = moduleInfo(obj);
    expect(info.get("name")).toEqual(["my_mod"]);
    expect(info.get("modname")).toEqual(["my_mod"]);
    expect(info.get("basename")).toEqual(["main_part"]);
    // from_asm is defined inside the module: only __fentry__ comes from the kernel.
    const asked: string[] = [];
    const bases = {
      text: 0xffff_ffff_c000_0000n, rodata: 0xffff_ffff_c000_1000n, data: 0xffff_ffff_c000_2000n, bss: 0xffff_ffff_c000_3000n,
    };
    const linked = linkModule(obj, layoutModule(obj), bases, (n) => { asked.push(n); return 0xffff_ffff_8100_0000n; });
    expect(asked).toEqual(["__fentry__"]);
    expect("symbols" in linked && linked.symbols.map((s) => s.name).sort()).toEqual(["from_asm", "init_module"]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("writes SRC's name with .ko in the current directory when -o is not given", async () => {
    const sub = join(dir, "cwd");
    mkdirSync(sub);
    const src = file("counter-mod.c", "int init_module(void) { return 0; }\n");
    const r = await runCli(["build-module", src], { cwd: sub });
    expect(r.status).toBe(0);
    expect(readdirSync(sub)).toEqual(["counter-mod.ko"]);
    expect(moduleInfo(parseModuleObject(new Uint8Array(readFileSync(join(sub, "counter-mod.ko"))))).get("name")).toEqual(["counter_mod"]);
  });

  it("shows gcc's message for a syntax error, exits 1 and writes nothing", async () => {
    const src = file("broken.c", "int init_module(void) { return 0 }\n");
    const out = join(dir, "broken.ko");
    const r = await runCli(["build-module", "-o", out, src]);
    expect(r.status).toBe(1);
    // gcc quotes with ‘’ or '' depending on the locale.
    expect(r.stderr).toMatch(new RegExp(`${src.replace(/[.]/g, "\\.")}:1:33: error: expected .;. before .}. token`));
    expect(r.stdout).toBe("");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an object the loader would refuse: exit 1 with the loader's line, nothing written", async () => {
    const src = file("got.S", "\t.text\n\tmovq shared_var@GOTPCREL(%rip), %rax\n\t.section .note.GNU-stack,\"\",@progbits\n");
    const out = join(dir, "got.ko");
    const r = await runCli(["build-module", "-o", out, src]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`tramplab build-module: ${out}: Unknown rela relocation: 42 (R_X86_64_REX_GOTPCRELX) in .rela.text\n`);
    expect(existsSync(out)).toBe(false);
  });

  it("an OUT in a folder that does not exist: exit 2, one line", async () => {
    const src = file("fine.c", "int init_module(void) { return 0; }\n");
    const out = join(dir, "no-such-folder", "fine.ko");
    const r = await runCli(["build-module", "-o", out, src]);
    expect(r).toEqual({ status: 2, signal: null, stdout: "", stderr: `tramplab: ${out}: cannot write (ENOENT)\n` });
  });

  it("a missing source: exit 2, one line naming it, before gcc runs", async () => {
    const r = await runMain(["build-module", join(dir, "nope.c")]);
    expect(r).toEqual({ code: 2, out: "", err: `tramplab: ${join(dir, "nope.c")}: cannot read (ENOENT)\n` });
  });

  it("sources that are not regular files within 16 MiB are refused before gcc reads them (one line, exit 2)", async () => {
    symlinkSync("/dev/zero", join(dir, "zero.c"));
    execFileSync("mkfifo", [join(dir, "fifo.c")]);
    closeSync(openSync(join(dir, "big.c"), "w"));
    truncateSync(join(dir, "big.c"), 16 * 1024 * 1024 + 1);
    const cases: [string, string][] = [
      ["zero.c", "not a regular file (a character device)"], ["fifo.c", "not a regular file (a FIFO)"],
      ["big.c", "larger than 16 MiB, the limit for a module source file"],
    ];
    for (const [name, why] of cases) {
      const r = await runCli(["build-module", "-o", join(dir, "never.ko"), join(dir, name)]);
      expect(r).toEqual({ status: 2, signal: null, stdout: "", stderr: `tramplab: ${join(dir, name)}: ${why}\n` });
    }
    expect(existsSync(join(dir, "never.ko"))).toBe(false);
  });

  it("usage errors: no source, another kind of file, a name the kernel cannot keep, -o without a value", async () => {
    const src = file("ok.c", "int init_module(void) { return 0; }\n");
    const long = "n".repeat(56);
    const cases: [string[], string][] = [
      [[], "needs at least one source (SRC.c or SRC.S)"],
      [[join(dir, "x.cpp")], `${join(dir, "x.cpp")}: a source is a .c or .S file`],
      [["-o", join(dir, "a b.ko"), src], `${join(dir, "a b.ko")}: a module's name ("a b") is 1 to 55 letters, digits, _ or -`],
      [["-o", `${long}.ko`, src], `${long}.ko: a module's name ("${long}") is 1 to 55 letters, digits, _ or -`],
      [[src, "-o"], '-o needs a file name, got ""'],
      [["--cflags", src], "unknown option --cflags"],
    ];
    for (const [args, message] of cases) {
      const r = await runMain(["build-module", ...args]);
      expect(r).toEqual({ code: 2, out: "", err: `tramplab build-module: ${message} (see 'tramplab build-module --help')\n` });
    }
    const many = await runMain(["build-module", ...Array.from({ length: 65 }, () => src)]);
    expect(many.err).toBe("tramplab build-module: takes at most 64 sources, got 65 (see 'tramplab build-module --help')\n");
    mkdirSync(join(dir, "folder.c"));
    const folder = await runMain(["build-module", join(dir, "folder.c")]);
    expect(folder).toEqual({ code: 2, out: "", err: `tramplab: ${join(dir, "folder.c")}: not a regular file (a directory)\n` });
  });

  it("--help describes the command, and tramplab --help lists it", async () => {
    const help = await runMain(["build-module", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: tramplab build-module \[-o OUT\.ko\] SRC\.c\|SRC\.S\.\.\.\n/);
    expect(help.out).toContain("-I firmware/module/include");
    const top = await runMain(["--help"]);
    expect(top.out).toMatch(/\n {2}build-module SRC\.\.\. {3}compile and link module sources into a relocatable object \(\.ko\)\n/);
  });
});
