// What `tramplab run` prints after a run: a view of the kernel's state (per-CPU load, the
// tasks and their switches, the grace periods, released ops, recursion and reports).
import type { Kernel } from "../kernel/kernel.js";
import { formatHz, formatTime } from "../machine/units.js";
import { lsmod } from "../kernel/module/messages.js";
import { modelTitle } from "../kernel/versions.js";

export function runSummary(k: Kernel): string {
  const m = k.machine;
  const { config, sched } = k;
  const lines: string[] = [];
  lines.push(`tramplab: ${modelTitle(k.kconfig.version, k.kconfig.rule)}, ${m.ncpus} vCPUs, preempt=${config.preempt}, ` +
    `virtual time ${formatTime(m.time)}, ${formatHz(config.tickPeriod)}`);
  lines.push("cpu  busy   idle   interrupts");
  for (let c = 0; c < m.ncpus; c++) {
    const total = sched.busyTicks[c] + sched.idleTicks[c] || 1;
    const busy = (100 * sched.busyTicks[c]) / total;
    lines.push(`${String(c).padStart(3)}  ${busy.toFixed(1).padStart(5)}% ${(100 - busy).toFixed(1).padStart(5)}%  ${k.irqCount(c)}`);
  }
  lines.push("task               pid cpu state     voluntary involuntary  jiffies");
  for (const t of sched.tasks) {
    lines.push(`${t.name.padEnd(18)} ${String(t.pid).padStart(3)} ${String(t.cpu).padStart(3)} ${t.state.padEnd(9)} ` +
      `${String(t.nvcsw).padStart(9)} ${String(t.nivcsw).padStart(11)} ${String(t.runTicks).padStart(8)}`);
  }
  lines.push("(voluntary: the task blocked, nvcsw; involuntary: it was preempted or yielded while runnable, nivcsw;");
  lines.push(` jiffies: timer ticks that found it running, ${formatHz(config.tickPeriod)}, 1 jiffy = ${formatTime(config.tickPeriod)})`);
  lines.push("grace periods     done          mean latency  state");
  for (const f of k.rcu.flavours) {
    const l = f.latencies();
    const mean = l.length ? formatTime(l.reduce((a, b) => a + b, 0n) / BigInt(l.length)) : "-";
    const state = f.describe(m.time).replace(/^[^:]*: /, "");
    lines.push(`${f.name.padEnd(16)} ${String(f.completed).padStart(5)}  ${mean.padStart(20)}  ${state}`);
  }
  if (k.modules.all.length > 0) {
    lines.push("modules:", ...lsmod(k.modules.loaded).split("\n").map((l) => `  ${l}`));
    for (const mod of k.modules.all.filter((x) => x.state === "freed")) {
      lines.push(`  ${mod.name}: unloaded, memory freed at ${formatTime(mod.freedAt ?? 0n)} (${mod.freedBy})`);
    }
  }
  if (k.releases.all.length > 0) lines.push("released ops:", ...k.releases.describe(m.time).split("\n").map((l) => `  ${l}`));
  const skipped = k.ftrace.recursions();
  if (skipped.total > 0n) {
    const sites = [...skipped.sites].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1))
      .slice(0, 5).map(([f, n]) => `${f} ${n}`).join(", ");
    lines.push(`ftrace recursion (${config.recursion}): ${skipped.total} callback call(s) skipped; most at ${sites}`);
  }
  if (k.warnings.length > 0) lines.push(`${k.warnings.length} WARNING(s) (reports above)`);
  if (k.useAfterFrees.length > 0) lines.push(`${k.useAfterFrees.length} use-after-free(s) caught (reports above)`);
  return lines.join("\n");
}
