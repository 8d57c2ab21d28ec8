// tramplab check-noinstr IMAGE: report every call or jump that leaves .noinstr.text
// (src/noinstr). Exit 0 when there is none, 1 when there are some, 2 when the image cannot be
// checked.
import { basename } from "node:path";
import { readInput } from "../io.js";
import { ElfError } from "../machine/elf.js";
import { parseOptions, UsageError } from "./args.js";
import { checkNoinstr, checkNoinstrElf, type NoinstrReport } from "../noinstr/check.js";
import { isModuleObject, linkedModuleImage } from "./noinstr-module.js";

export const NOINSTR_USAGE = `usage: tramplab check-noinstr IMAGE|MODULE.ko

Decodes every function in IMAGE's .noinstr.text (its own section, or the range between
__noinstr_text_start and __noinstr_text_end) and prints one line per call or jump out of it,
indirect ones included, in objtool's words after its "OBJECT: warning: objtool: " prefix (the
kernel image is vmlinux.o). Calls between instrumentation_begin() and instrumentation_end() are
allowed; a ret before the end is reported. A module object (built with build-module) is first
linked as insmod links it, against the built-in kernel's symbols, so calls into the kernel are named.
Exit status: 0 clean, 1 violations found, 2 the image cannot be checked.`;

export function checkNoinstrCommand(args: string[]): number {
  const p = parseOptions(args, {});
  if (p.help) { process.stdout.write(NOINSTR_USAGE + "\n"); return 0; }
  if (p.positionals.length === 0) throw new UsageError("needs an IMAGE");
  if (p.positionals.length > 1) throw new UsageError(`takes one IMAGE, got ${p.positionals.length} arguments`);
  const path = p.positionals[0];
  let report: NoinstrReport;
  let isModule = false;
  try {
    const bytes = readInput(path, "elf");
    isModule = isModuleObject(bytes);
    report = isModule ? checkNoinstrElf(linkedModuleImage(bytes, path)) : checkNoinstr(bytes);
  } catch (e) {
    if (e instanceof ElfError) { process.stderr.write(`tramplab: ${path}: ${e.message}\n`); return 2; }
    throw e;
  }
  const object = objectName(path, report, isModule);
  for (const f of report.findings) process.stdout.write(`${object}: warning: objtool: ${f.message}\n`);
  process.stdout.write(summary(path, report) + "\n");
  return report.findings.length === 0 ? 0 : 1;
}

/**
 * The object objtool would name: it checks the kernel as vmlinux.o (an image whose linker script
 * folded .noinstr.text into .text between the marker symbols, as vmlinux's does), a module as its
 * .o, anything else under its own file name.
 */
function objectName(path: string, r: NoinstrReport, isModule: boolean): string {
  if (isModule) return basename(path).replace(/\.ko$/, ".o");
  return r.region.from === "symbols" ? "vmlinux.o" : basename(path);
}

function summary(path: string, r: NoinstrReport): string {
  const checked = `${r.functions} function${r.functions === 1 ? "" : "s"}, ` +
    `${r.instructions} instruction${r.instructions === 1 ? "" : "s"} checked`;
  if (r.findings.length === 0) return `${path}: ${checked}: nothing leaves .noinstr.text`;
  const n = r.findings.length;
  return `${path}: ${checked}: ${n} instruction${n === 1 ? "" : "s"} can leave .noinstr.text`;
}
