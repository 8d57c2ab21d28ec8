// Options that configure the built-in kernel, shared by `tramplab run` and `tramplab debug` so
// that the two accept the same spellings and refuse bad values with the same words.
import { PREEMPT_MODELS, RECURSION_SCHEMES, type KernelConfig, type PreemptModel, type RecursionSchemeName } from "../kernel/config.js";
import { checkReleasePolicy } from "../kernel/ftrace/release.js";
import { UsageError } from "./args.js";

export type KernelOptions = Partial<Pick<KernelConfig, "cpus" | "seed" | "preempt" | "kconfig" | "release" | "recursion">>;

export function intArg(name: string, v: string | undefined, min: number, max: number): number {
  if (!v || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} needs an integer from ${min} to ${max}, got ${v ?? "nothing"}`);
  return Number(v);
}

/**
 * If `a` is a kernel option, reads its value (through `value`, which consumes the next
 * argument) into `o` and returns true; otherwise returns false and consumes nothing.
 */
export function kernelOption(a: string, value: () => string | undefined, o: KernelOptions): boolean {
  switch (a) {
    case "--cpus": o.cpus = intArg(a, value(), 1, 64); return true;
    case "--seed": o.seed = intArg(a, value(), 0, 2 ** 31); return true;
    case "--preempt": {
      const v = value();
      if (!PREEMPT_MODELS.includes(v as PreemptModel)) throw new UsageError(`--preempt must be one of ${PREEMPT_MODELS.join(", ")}, got ${v ?? "nothing"}`);
      o.preempt = v as PreemptModel;
      return true;
    }
    case "--kconfig": {
      const v = value();
      if (v !== "old" && v !== "new") throw new UsageError(`--kconfig must be old or new, got ${v ?? "nothing"}`);
      o.kconfig = v;
      return true;
    }
    case "--release": {
      const v = value();
      try { checkReleasePolicy(v ?? ""); } catch (e) { throw new UsageError(`--release: ${(e as Error).message}`); }
      o.release = v;
      return true;
    }
    case "--recursion": {
      const v = value();
      if (!RECURSION_SCHEMES.includes(v as RecursionSchemeName)) throw new UsageError(`--recursion must be one of ${RECURSION_SCHEMES.join(", ")}, got ${v ?? "nothing"}`);
      o.recursion = v as RecursionSchemeName;
      return true;
    }
  }
  return false;
}
