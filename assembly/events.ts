// The event ring: what happened, in order, for the host to read (src/machine/events.ts).
//
// The core appends fixed-size records and never waits for the reader; the ring keeps the
// newest EVLOG_SIZE / EVENT_SIZE records. The host drains it after every run() and counts
// anything overwritten before it could read it, so nothing is lost silently.
import {
  EVLOG, EVLOG_SIZE, EVENT_SIZE, M_EV_HEAD, M_EV_ENABLED,
  EV_SEQ, EV_CLOCK, EV_KIND, EV_CPU, EV_A, EV_B, EV_C, EV_D, EV_E,
} from "./gen/layout";
import { cpuIndex } from "./state";

const SLOTS: u64 = <u64>(EVLOG_SIZE / EVENT_SIZE);

@inline export function eventEnabled(kind: u32): bool {
  return (load<u32>(M_EV_ENABLED) & (<u32>1 << kind)) != 0;
}

/** Appends an event of the running vCPU at virtual time `clock`. */
export function logEvent(clock: u64, kind: u32, a: u64, b: u64, c: u64, d: u64, e: u64): void {
  logEventFor(cpuIndex(), clock, kind, a, b, c, d, e);
}

export function logEventFor(cpu: u32, clock: u64, kind: u32, a: u64, b: u64, c: u64, d: u64, e: u64): void {
  if (!eventEnabled(kind)) return;
  const seq = load<u64>(M_EV_HEAD);
  const r = EVLOG + <usize>(seq % SLOTS) * EVENT_SIZE;
  store<u64>(r, seq, EV_SEQ);
  store<u64>(r, clock, EV_CLOCK);
  store<u32>(r, kind, EV_KIND);
  store<u32>(r, cpu, EV_CPU);
  store<u64>(r, a, EV_A);
  store<u64>(r, b, EV_B);
  store<u64>(r, c, EV_C);
  store<u64>(r, d, EV_D);
  store<u64>(r, e, EV_E);
  store<u64>(M_EV_HEAD, seq + 1);
}
