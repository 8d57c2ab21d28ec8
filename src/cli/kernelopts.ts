// Options that configure the built-in kernel, shared by `tramplab run` and `tramplab debug` so
// that the two accept the same spellings and refuse bad values with the same words.
import { PREEMPT_MODELS, RECURSION_SCHEMES, type KernelConfig, type PreemptModel, type RecursionSchemeName } from "../kernel/config.js";
import { checkReleasePolicy } from "../kernel/ftrace/release.js";
import { CPU_VENDORS, type CpuVendorName } from "../machine/machine.js";
import { shown } from "../numbers.js";
import { intOption, seedOption, UsageError, VALUE, type OptionSpec, type ParsedArgs } from "./args.js";

export type KernelOptions = Partial<Pick<KernelConfig, "cpus" | "seed" | "preempt" | "kconfig" | "release" | "recursion" | "cpuVendor">>;

/** The kernel options, for a command's option list. */
export const KERNEL_OPTIONS = { cpus: VALUE, seed: VALUE, preempt: VALUE, kconfig: VALUE, release: VALUE, recursion: VALUE, "cpu-vendor": VALUE } satisfies OptionSpec;

/** --cpu-vendor's value, checked. */
export function cpuVendorArg(v: string | undefined): CpuVendorName {
  if (!CPU_VENDORS.includes(v as CpuVendorName)) throw new UsageError(`--cpu-vendor must be one of ${CPU_VENDORS.join(", ")}, got ${shown(v)}`);
  return v as CpuVendorName;
}

/** Checks the kernel options given in `p` and returns them; the ones not given are left out. */
export function kernelOptions(p: ParsedArgs): KernelOptions {
  const o: KernelOptions = {};
  const given = (name: keyof typeof KERNEL_OPTIONS) => p.values.has(name);
  const value = (name: keyof typeof KERNEL_OPTIONS) => p.values.get(name);
  if (given("cpus")) o.cpus = intOption("--cpus", value("cpus"), 1, 64);
  if (given("seed")) o.seed = seedOption("--seed", value("seed"));
  if (given("preempt")) {
    const v = value("preempt");
    if (!PREEMPT_MODELS.includes(v as PreemptModel)) throw new UsageError(`--preempt must be one of ${PREEMPT_MODELS.join(", ")}, got ${shown(v)}`);
    o.preempt = v as PreemptModel;
  }
  if (given("kconfig")) {
    const v = value("kconfig");
    if (v !== "old" && v !== "new") throw new UsageError(`--kconfig must be old or new, got ${shown(v)}`);
    o.kconfig = v;
  }
  if (given("release")) {
    const v = value("release");
    try { checkReleasePolicy(v ?? ""); } catch (e) { throw new UsageError(`--release: ${(e as Error).message}`); }
    o.release = v;
  }
  if (given("cpu-vendor")) o.cpuVendor = cpuVendorArg(value("cpu-vendor"));
  if (given("recursion")) {
    const v = value("recursion");
    if (!RECURSION_SCHEMES.includes(v as RecursionSchemeName)) throw new UsageError(`--recursion must be one of ${RECURSION_SCHEMES.join(", ")}, got ${shown(v)}`);
    o.recursion = v as RecursionSchemeName;
  }
  return o;
}
