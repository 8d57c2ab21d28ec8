// What the module tests share: a scratch folder, objects built with gcc and ld directly (for the
// ones build-module refuses to make), and binutils' own reading of an object's relocations, so
// the linker's output is checked against a second reader rather than against itself.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli-child.js";

export const scratch = (): string => mkdtempSync(join(tmpdir(), "tramplab-module-test-"));

/** `gcc FLAGS -c` of `source` (written to DIR/NAME), then `ld -r` with `extra` objects: the object's bytes. */
export function gccObject(dir: string, name: string, source: string, flags: string[], opts: { modinfo?: string } = {}): Uint8Array {
  const src = join(dir, name);
  writeFileSync(src, source);
  const obj = join(dir, `${name}.o`);
  execFileSync("gcc", [...flags, "-c", src, "-o", obj], { stdio: "pipe" });
  const objs = [obj];
  if (opts.modinfo !== undefined) {
    const s = join(dir, `${name}.modinfo.s`);
    writeFileSync(s, `\t.section .modinfo,"a"\n\t.string "${opts.modinfo}"\n`);
    execFileSync("gcc", ["-c", s, "-o", `${s}.o`], { stdio: "pipe" });
    objs.push(`${s}.o`);
  }
  const out = join(dir, `${name}.ko`);
  execFileSync("ld", ["-r", "-o", out, ...objs], { stdio: "pipe" });
  return new Uint8Array(readFileSync(out));
}

export interface ReadelfReloc { section: string; offset: number; type: string; symbol: string; addend: bigint }

/** `readelf -rW`: every relocation, by the section it patches (".text" for ".rela.text"). */
export function readelfRelocs(path: string): ReadelfReloc[] {
  const out = execFileSync("readelf", ["-rW", path], { encoding: "utf8" });
  const relocs: ReadelfReloc[] = [];
  let section = "";
  for (const line of out.split("\n")) {
    const head = /^Relocation section '\.rela(.*)' at offset/.exec(line);
    if (head) { section = head[1]; continue; }
    const m = /^([0-9a-f]{16})\s+[0-9a-f]+\s+(R_X86_64_\w+)\s+[0-9a-f]+\s+(\S+)\s*([+-])\s*([0-9a-f]+)$/.exec(line);
    if (m) {
      const addend = BigInt(`0x${m[5]}`) * (m[4] === "-" ? -1n : 1n);
      relocs.push({ section, offset: parseInt(m[1], 16), type: m[2], symbol: m[3], addend });
    }
  }
  return relocs;
}

/** `tramplab build-module -o DIR/NAME.ko DIR/NAME.c` of `source`; throws with its messages if it fails. */
export async function buildModule(dir: string, name: string, source: string): Promise<string> {
  writeFileSync(join(dir, `${name}.c`), source);
  const out = join(dir, `${name}.ko`);
  const r = await runCli(["build-module", "-o", out, join(dir, `${name}.c`)]);
  if (r.status !== 0 || r.stderr !== "") throw new Error(`build-module ${name}: exit ${r.status}\n${r.stderr}`);
  return out;
}

/** init registers an ops on work_top and says so; exit unregisters it and says how often the callback (counting in `calls`) ran. */
export const TMOD_SOURCE = `
#include <linux/module.h>
#include <linux/ftrace.h>

static int hits = 1;
module_param(hits, int, 0644);

static unsigned long calls;

static void tmod_callback(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
  calls++;
}

static struct ftrace_ops tmod_ops = {
  .func = tmod_callback,
};

static int __init tmod_init(void)
{
  int ret = ftrace_set_filter(&tmod_ops, (unsigned char *)"work_top", 8, 1);

  if (ret)
    return ret;
  ret = register_ftrace_function(&tmod_ops);
  if (ret == 0)
    pr_info("tmod: loaded, hits=%d\\n", hits);
  return ret;
}

static void __exit tmod_exit(void)
{
  unregister_ftrace_function(&tmod_ops);
  pr_info("tmod: unloaded after %lu calls\\n", calls);
}

module_init(tmod_init);
module_exit(tmod_exit);
MODULE_LICENSE("GPL");
`;

/** As TMOD_SOURCE, named forget, whose exit forgets to unregister its ops: the callback outlives the module. */
export const FORGET_SOURCE = TMOD_SOURCE.replace(/tmod/g, "forget").replace(/^ *unregister_ftrace_function\(&forget_ops\);\n/m, "");
