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

/** insmod: the line split as insmod's shell would, its file found, read and (when it can be) named. */
export function readInsmod(x: StepContext, arg: Field, at: Pos, scenarioFile: string, read: Map<string, Uint8Array>): Step | undefined {
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
  let bytes = read.get(found.path);
  if (!bytes) {
    try {
      bytes = new Uint8Array(readInput(found.path, "module"));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return r.fail(a.textAt, `insmod ${parsed.file}: ${e.message.replace(`${found.path}: `, "")}`);
    }
    read.set(found.path, bytes);
  }
  // A file that is no module object may be the point (fails: ENOEXEC); then it has no name.
  let module: string | undefined;
  try {
    module = moduleName(parseModuleObject(bytes, parsed.file));
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
    if (a.fails === undefined) return r.fail(a.textAt, `insmod ${parsed.file}: ${e.message}`);
  }
  if (module !== undefined && !x.modules.has(module)) x.modules.set(module, at);
  return { at, kind: "insmod", line: a.text, file: parsed.file, bytes, args: parsed.args, module, fails: a.fails };
}

export function readRmmod(x: StepContext, arg: Field, at: Pos): Step | undefined {
  const a = moduleArg(x, "rmmod", "module", arg);
  if (!a || a.text === undefined) return undefined;
  if (!/^[\w-]+$/.test(a.text)) return x.r.fail(a.textAt, `rmmod: "${a.text}" is not a module name (letters, digits, _ and -)`);
  return { at, kind: "rmmod", module: a.text, fails: a.fails };
}
