// The module steps: `insmod: "FILE.ko PARAM=VALUE ..."` and `rmmod: NAME`, each also written as
// a map with `fails: ERRNO`. An insmod's file is found and read when the scenario is read (in
// or under the scenario's folder, as golden files and machine.image are), so a missing,
// unreadable or oversized one is an error at its line before anything runs.
import { isMap } from "yaml";
import { Errno } from "../gen/constants.js";
import { InputError, readInput } from "../io.js";
import { parseInsmodLine, ParamError } from "../kernel/module/params.js";
import { moduleName, parseModuleObject, ModuleError } from "../kernel/module/object.js";
import { locateInput } from "./golden.js";
import type { Field } from "./schema.js";
import type { StepContext } from "./context.js";
import type { Pos, Step } from "./types.js";

/** The errno names a module step may be expected to fail with (the kernel's: src/gen/constants.ts). */
export const MODULE_ERRNOS = Object.keys(Errno);

/** The argument, bare (`insmod: LINE`) or a map with `key` and `fails`. */
function moduleArg(x: StepContext, kind: string, key: string, arg: Field): { text?: string; textAt: Pos; fails?: string } | undefined {
  const { r } = x;
  if (!arg.value) return r.fail(arg.at, `step ${kind} needs an argument`);
  if (!isMap(arg.value)) return { text: r.str(arg, kind), textAt: arg.at };
  const m = r.fields(arg.value, arg.at, `step ${kind}`, [key, "fails"], [key]);
  if (!m) return undefined;
  const fails = m.has("fails") ? r.oneOf(m.get("fails")!, `${kind}.fails`, MODULE_ERRNOS) : undefined;
  if (m.has("fails") && fails === undefined) return undefined;
  const f = m.get(key);
  return f ? { text: r.str(f, `${kind}.${key}`), textAt: f.at, fails } : undefined;
}

/** A module file as read once for every step that names it: its bytes, and its name or why it has none. */
export interface ModuleFile {
  bytes: Uint8Array;
  module?: string;
  problem?: string;
}

/** insmod: the line split as insmod's shell would, its file found, read and (when it can be) named. */
export function readInsmod(x: StepContext, arg: Field, at: Pos, scenarioFile: string, read: Map<string, ModuleFile>): Step | undefined {
  const { r } = x;
  const a = moduleArg(x, "insmod", "module", arg);
  if (!a || a.text === undefined) return undefined;
  let parsed;
  try {
    parsed = parseInsmodLine(a.text);
  } catch (e) {
    if (e instanceof ParamError) return r.fail(a.textAt, `insmod: ${e.message}`);
    throw e;
  }
  const found = locateInput(scenarioFile, parsed.file, "insmod", "module");
  if ("problem" in found) return r.fail(a.textAt, found.problem);
  let f = read.get(found.path);
  if (!f) {
    try {
      f = named(new Uint8Array(readInput(found.path, "module")), parsed.file);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return r.fail(a.textAt, `insmod ${parsed.file}: ${e.message.replace(`${found.path}: `, "")}`);
    }
    read.set(found.path, f);
  }
  // A file that is no module object may be the point (fails: ENOEXEC); then it has no name.
  if (f.problem !== undefined && a.fails === undefined) return r.fail(a.textAt, `insmod ${parsed.file}: ${f.problem}`);
  if (f.module !== undefined && !x.modules.has(f.module)) x.modules.set(f.module, at);
  return { at, kind: "insmod", line: a.text, file: parsed.file, bytes: f.bytes, args: parsed.args, module: f.module, fails: a.fails };
}

function named(bytes: Uint8Array, file: string): ModuleFile {
  try {
    return { bytes, module: moduleName(parseModuleObject(bytes, file)) };
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
    return { bytes, problem: e.message };
  }
}

export function readRmmod(x: StepContext, arg: Field, at: Pos): Step | undefined {
  const a = moduleArg(x, "rmmod", "module", arg);
  if (!a || a.text === undefined) return undefined;
  if (!/^[\w-]+$/.test(a.text)) return x.r.fail(a.textAt, `rmmod: "${a.text}" is not a module name (letters, digits, _ and -)`);
  return { at, kind: "rmmod", module: a.text, fails: a.fails };
}
