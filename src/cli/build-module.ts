// tramplab build-module [-o OUT.ko] SRC...: compiles module sources with gcc the way the
// firmware is compiled (tools/firmware-flags.json, so every function gets its fentry site and
// __mcount_loc entry), against the module headers instead of the firmware's, and links them
// with `ld -r` into one relocatable object, a .ko, with the .modinfo name= string that kbuild's
// modpost would add. The result is read back with the loader's own checks before it is written.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { InputError, inputProblem, readInput, readInputText } from "../io.js";
import { projectRoot } from "../paths.js";
import { MAX_NAME_BYTES, ModuleError, parseModuleObject } from "../kernel/module/object.js";
import { parseOptions, UsageError, VALUE } from "./args.js";

/** Sources in one module: far beyond any test module, small enough to bound one command. */
export const MAX_SOURCES = 64;
/** How long gcc or ld may take on one step before it is stopped. */
const TOOL_TIMEOUT_MS = 120_000;

export const BUILD_MODULE_USAGE = `usage: tramplab build-module [-o OUT.ko] SRC.c|SRC.S...

Compiles each source with gcc, with the firmware's flags (-O2 -pg -mfentry -mrecord-mcount
-mcmodel=kernel -mno-red-zone -mgeneral-regs-only ...) and -std=gnu11 -I firmware/module/include,
-D__KERNEL__ -DMODULE -DKBUILD_MODNAME -DKBUILD_BASENAME -fno-common, and links the objects
with ld -r into a relocatable object that tramplab loads as a module.
  -o OUT.ko   the object to write (default: the first source's name with .ko, in the current
              directory); the module's name is OUT's name without .ko, - read as _
gcc's and ld's messages are shown as they print them. Exit status: 0 built, 1 the compiler or
the linker failed (nothing is written), 2 a bad option or a source that cannot be read.
At most ${MAX_SOURCES} sources; each must be a regular file ending in .c or .S.`;

/** "my-mod.ko" -> "my_mod": the name kbuild gives a module (KBUILD_MODNAME). */
export function moduleNameOf(out: string): string {
  return basename(out).replace(/\.ko$/, "").replace(/-/g, "_");
}

/** The flags of tools/firmware-flags.json without -Werror and the firmware's include path. */
function moduleCflags(): string[] {
  const json = JSON.parse(readInputText(join(projectRoot, "tools", "firmware-flags.json"), "project")) as { cflags: string[] };
  return json.cflags.filter((f) => f !== "-Werror" && !f.startsWith("-I"));
}

interface Options { out: string; sources: string[] }

function parse(args: string[]): Options | undefined {
  const p = parseOptions(args, { output: { ...VALUE, short: "o" } });
  if (p.help) return undefined;
  const sources = p.positionals;
  if (sources.length === 0) throw new UsageError("needs at least one source (SRC.c or SRC.S)");
  if (sources.length > MAX_SOURCES) throw new UsageError(`takes at most ${MAX_SOURCES} sources, got ${sources.length}`);
  for (const s of sources) {
    if (!/\.[cS]$/.test(s)) throw new UsageError(`${s}: a source is a .c or .S file`);
  }
  const out = p.values.has("output") ? p.values.get("output") : basename(sources[0]).replace(/\.[cS]$/, ".ko");
  if (out === undefined || out === "" || out.endsWith("/")) throw new UsageError(`-o needs a file name, got ${JSON.stringify(out ?? "")}`);
  const name = moduleNameOf(out);
  if (!/^[A-Za-z0-9_]+$/.test(name) || name.length > MAX_NAME_BYTES) {
    throw new UsageError(`${out}: a module's name (${JSON.stringify(name)}) is 1 to ${MAX_NAME_BYTES} letters, digits, _ or -`);
  }
  for (const s of sources) {
    const problem = inputProblem(s, "source");
    if (problem) throw new InputError(`${s}: ${problem}`);
  }
  return { out, sources };
}

/** Runs a tool with its messages passed through: whether it succeeded, or why it did not run. */
function tool(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], timeout: TOOL_TIMEOUT_MS });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    const why = code === "ETIMEDOUT" ? `took longer than ${TOOL_TIMEOUT_MS / 1000} s and was stopped` : `could not be run (${code})`;
    process.stderr.write(`tramplab build-module: ${cmd} ${why}\n`);
    return false;
  }
  if (r.signal) process.stderr.write(`tramplab build-module: ${cmd} was ended by ${r.signal}\n`);
  return r.status === 0;
}

/** A path gcc reads as a file, even one that starts with -. */
const asFile = (p: string) => (p.startsWith("-") ? `./${p}` : p);

export function buildModule(args: string[]): number {
  const o = parse(args);
  if (!o) { process.stdout.write(BUILD_MODULE_USAGE + "\n"); return 0; }
  const name = moduleNameOf(o.out);
  // The kernel's C dialect; the kernel-style headers, then (after the system's) the generated
  // constants they share with the firmware (gen/constants.h: errno, ftrace_ops flags...).
  const cflags = [...moduleCflags(), "-std=gnu11", "-I", join(projectRoot, "firmware", "module", "include"),
    "-idirafter", join(projectRoot, "firmware", "include"),
    "-D__KERNEL__", "-DMODULE", `-DKBUILD_MODNAME="${name}"`, "-fno-common"];
  const tmp = mkdtempSync(join(tmpdir(), "tramplab-module-"));
  try {
    const objs: string[] = [];
    for (const [i, src] of o.sources.entries()) {
      // As kbuild spells it, with anything else that cannot stand in a C string or a file name as _ too.
      const base = basename(src).replace(/\.[cS]$/, "").replace(/[^A-Za-z0-9_]/g, "_");
      const obj = join(tmp, `${i}-${base}.o`);
      const asm = src.endsWith(".S") ? ["-D__ASSEMBLY__"] : [];
      if (!tool("gcc", [...cflags, ...asm, `-DKBUILD_BASENAME="${base}"`, "-c", asFile(src), "-o", obj])) return 1;
      objs.push(obj);
    }
    // What modpost's NAME.mod.c would add: the name the loader knows the module by.
    const modinfo = join(tmp, "modinfo.s");
    writeFileSync(modinfo, `\t.section .modinfo,"a"\n\t.string "name=${name}"\n\t.section .note.GNU-stack,"",@progbits\n`);
    if (!tool("gcc", ["-c", modinfo, "-o", join(tmp, "modinfo.o")])) return 1;
    const linked = join(tmp, "module.ko");
    if (!tool("ld", ["-r", "-m", "elf_x86_64", "-o", linked, ...objs, join(tmp, "modinfo.o")])) return 1;
    try {
      parseModuleObject(readInput(linked, "elf"), o.out);
    } catch (e) {
      if (e instanceof ModuleError || e instanceof InputError) {
        process.stderr.write(`tramplab build-module: ${o.out}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    try {
      copyFileSync(linked, o.out);
    } catch (e) {
      throw new InputError(`${o.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
