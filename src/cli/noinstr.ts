// tramplab check-noinstr IMAGE: report every call or jump that leaves .noinstr.text
// (src/noinstr). Exit 0 when there is none, 1 when there are some, 2 when the image cannot be
// checked.
import { readInput } from "../io.js";
import { ElfError } from "../machine/elf.js";
import { parseOptions, UsageError } from "./args.js";
import { checkNoinstr, checkNoinstrElf, type NoinstrReport } from "../noinstr/check.js";
import { isModuleObject, linkedModuleImage } from "./noinstr-module.js";

export const NOINSTR_USAGE = `usage: tramplab check-noinstr IMAGE|MODULE.ko

Decodes every function in IMAGE's .noinstr.text (its own section, or the range between
__noinstr_text_start and __noinstr_text_end) and prints one line per call or jump out of it,
indirect ones included. A module object (built with build-module) is first linked as insmod
links it, against the built-in kernel's symbols, so calls into the kernel are named.
Exit status: 0 clean, 1 violations found, 2 the image cannot be checked.`;

export function checkNoinstrCommand(args: string[]): number {
  const p = parseOptions(args, {});
  if (p.help) { process.stdout.write(NOINSTR_USAGE + "\n"); return 0; }
  if (p.positionals.length === 0) throw new UsageError("needs an IMAGE");
  if (p.positionals.length > 1) throw new UsageError(`takes one IMAGE, got ${p.positionals.length} arguments`);
  const path = p.positionals[0];
  let report: NoinstrReport;
  try {
    const bytes = readInput(path, "elf");
    report = isModuleObject(bytes) ? checkNoinstrElf(linkedModuleImage(bytes, path)) : checkNoinstr(bytes);
  } catch (e) {
    if (e instanceof ElfError) { process.stderr.write(`tramplab: ${path}: ${e.message}\n`); return 2; }
    throw e;
  }
  for (const f of report.findings) process.stdout.write(f.message + "\n");
  process.stdout.write(summary(path, report) + "\n");
  return report.findings.length === 0 ? 0 : 1;
}

function summary(path: string, r: NoinstrReport): string {
  const checked = `${r.functions} function${r.functions === 1 ? "" : "s"}, ` +
    `${r.instructions} instruction${r.instructions === 1 ? "" : "s"} checked`;
  if (r.findings.length === 0) return `${path}: ${checked}: nothing leaves .noinstr.text`;
  const n = r.findings.length;
  return `${path}: ${checked}: ${n} instruction${n === 1 ? "" : "s"} can leave .noinstr.text`;
}
