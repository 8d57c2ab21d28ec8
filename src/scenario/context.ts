// What reading steps and expectations share: the kind of a list item, and ops names.
import { isMap, isScalar, type Node } from "yaml";
import { suggest, type Field, type Reader } from "./schema.js";
import type { Pos } from "./types.js";

type Item = { value: Node | null; at: Pos };

export const FLAVOURS = ["rcu", "rcu_tasks", "rcu_tasks_rude", "rcu_tasks_trace"];

/** unregister-probe's flavour for the grace periods tracepoint_synchronize_unregister() waits for, in its order. */
export const SYNCHRONIZE_UNREGISTER = "tracepoint_synchronize_unregister";

export interface StepContext {
  r: Reader;
  jiffy: number;
  ops: Set<string>;
  /** Probes registered by the steps read so far: where, and where they were unregistered. */
  probes: Map<string, { at: Pos; unregistered?: Pos }>;
  /** Modules the insmod steps read so far load (by the name in their .modinfo), and where. */
  modules: Map<string, Pos>;
}

/** `- kind` or `- kind: argument` (a scalar or a map). */
export function kindOf(r: Reader, item: Item, what: string, kinds: readonly string[]): { kind: string; arg: Field } | undefined {
  if (item.value && isScalar(item.value) && typeof item.value.value === "string") {
    const kind = item.value.value;
    if (!kinds.includes(kind)) return r.fail(item.at, `unknown ${what} "${kind}"${suggest(kind, kinds)}`);
    return { kind, arg: { key: kind, keyAt: item.at, value: null, at: item.at } };
  }
  if (!item.value || !isMap(item.value) || item.value.items.length !== 1) {
    return r.fail(item.at, `each ${what} is "- kind" or "- kind: argument", one per item (kinds: ${kinds.join(", ")})`);
  }
  const key = item.value.items[0].key;
  const name = isScalar(key) ? String(key.value) : "";
  if (!kinds.includes(name)) return r.fail(r.at(key as Node, item.at), `unknown ${what} "${name}"${suggest(name, kinds)}`);
  const m = r.fields(item.value, item.at, what, kinds);
  return m && m.size === 1 ? { kind: [...m.keys()][0], arg: [...m.values()][0] } : undefined;
}

export function opsName(x: StepContext, f: Field | Item, what: string): string | undefined {
  const name = x.r.str(f, what);
  if (name !== undefined && !x.ops.has(name)) return x.r.fail(f.at, `${what}: no ops "${name}" is declared${suggest(name, [...x.ops])}`);
  return name;
}

/**
 * An ops of the scenario, or one a module registers from its own code, named MODULE:SYMBOL
 * (the module's name and its struct ftrace_ops' symbol, as ftrace names it). The module must
 * be loaded by an earlier insmod step; whether it registers that ops is known only when it runs.
 */
export function anyOpsName(x: StepContext, f: Field | Item, what: string): string | undefined {
  const name = x.r.str(f, what);
  if (name === undefined) return undefined;
  const m = /^([\w-]+):([A-Za-z_.$][\w.$]*)$/.exec(name);
  if (!m) return opsName(x, f, what);
  if (!x.modules.has(m[1])) {
    return x.r.fail(f.at, `${what}: no module "${m[1]}" is loaded by an earlier insmod step${suggest(m[1], [...x.modules.keys()])}`);
  }
  return name;
}

/** A probe registered by an earlier register-probe step. */
export function probeName(x: StepContext, f: Field | Item, what: string): string | undefined {
  const name = x.r.str(f, what);
  if (name !== undefined && !x.probes.has(name)) {
    return x.r.fail(f.at, `${what}: no probe "${name}" is registered by an earlier step${suggest(name, [...x.probes.keys()])}`);
  }
  return name;
}
