// The `module` expectation: whether a module is loaded now, was loaded and freed, or was never
// laid out at all (a load refused before its memory was allocated: a bad object, an unknown
// symbol, a name already loaded).
import { formatTime } from "../machine/units.js";
import type { ExpectArg } from "./expect-read.js";
import type { CheckContext, Failure } from "./expect-check.js";
import type { Expectation, ModuleState } from "./types.js";

type ModuleExpectation = Extract<Expectation, { kind: "module" }>;

const STATES: readonly ModuleState[] = ["live", "freed", "absent"];

export const moduleDoc = ["`module: { name, state }`",
  "the module named so (its .modinfo name) is `live` (loaded now), `freed` (its latest load was unloaded, or failed after its " +
  "memory was laid out: a bad parameter, init_module failing) or `absent` (never laid out)"] as const;

export function readModule({ r, map }: ExpectArg): Omit<ModuleExpectation, "at" | "kind"> | undefined {
  const m = map(["name", "state"], ["name", "state"]);
  const name = m?.has("name") ? r.str(m.get("name")!, "module.name") : undefined;
  const state = m?.has("state") ? r.oneOf(m.get("state")!, "module.state", STATES) : undefined;
  if (name !== undefined && !/^[\w-]+$/.test(name)) return r.fail(m!.get("name")!.at, `module.name: "${name}" is not a module name`);
  return name !== undefined && state ? { name, state } : undefined;
}

export function checkModule(e: ModuleExpectation, { k, fail }: CheckContext): Failure | undefined {
  // Addresses are never reused, so a module loaded again is a new entry: the latest one counts.
  const m = k.modules.all.filter((x) => x.name === e.name).at(-1);
  const state: string = m ? m.state : "absent";
  if (state === e.state) return undefined;
  const actual = !m ? "never laid out"
    : m.state === "freed" ? `freed at ${formatTime(m.freedAt!)} (${m.freedBy})`
      : `${m.state}, loaded at ${formatTime(m.loadedAt)}`;
  return fail(`module ${e.name} ${e.state}`, `module ${e.name} ${actual}`);
}
