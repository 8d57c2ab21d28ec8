// Cross-modifying code: stores to code by one agent, executed by another before it serialized.
//
// Intel SDM Vol. 3 §8.1.3: a processor is guaranteed to see code another processor (or any
// other agent) modified only after it executes a serializing instruction. Every store that
// changes bytes of decoded code is appended to a log, with the writer and the old and new
// bytes. Each vCPU remembers the log position at its last serialization (C_SERIAL_SEQ): IRET,
// CPUID, any interrupt or exception delivery (what the kernel's sync_core IPI relies on),
// MOV to CR0/CR3/CR4, WRMSR, LGDT/LIDT/LTR. A vCPU that has log records from other agents
// after that position runs one instruction at a time and checks each against them.
//
// Executing an instruction of which two or more bytes were changed by other agents since the
// last serialization is a hazard: the vCPU may see some new and some old bytes. One changed
// byte is not: a single-byte store is atomic, so the whole instruction is either old or new —
// that is why the text-poke protocol writes int3 first and the first byte last.
//
//     CPU 0 (patching)                 CPU 1 (executing the site)
//     write e8 d0 d1 d2 d3 (5 bytes)
//                                      fetch: sees 0f 1f d1 d2 d3 -> garbage
//     ... versus the protocol:
//     write cc                         fetch: old nop or int3 -> fine (one byte)
//     IPI, wait  ------------------>   serializes in the interrupt
//     write d0 d1 d2 d3                fetch: cc -> int3 handler, tail not executed
//     IPI, wait  ------------------>   serializes
//     write e8                         fetch: old cc or new call -> fine (one byte)
//     IPI, wait  ------------------>   serializes
import {
  XMCLOG, XMCLOG_SIZE, XMC_RECORD_SIZE, M_XMC_HEAD, M_XMC_EVENTED, M_XMC_POLICY, M_RNG_STATE, M_HAZARDS,
  ACTIVE, C_SERIAL_SEQ, RAM, X_SEQ, X_STORE, X_PA, X_AGENT, X_LEN, X_OLD, X_NEW,
  EVENTKIND_SERIALIZE, EVENTKIND_HAZARD, EVENTKIND_CODE_WRITE, XMCPOLICY_OLD, XMCPOLICY_TORN,
} from "./gen/layout";
import { logEvent, logEventFor } from "./events";
import { HAZARD_BUF } from "./machine";
import { cpuIndex } from "./state";

const SLOTS: u64 = <u64>(XMCLOG_SIZE / XMC_RECORD_SIZE);
const PIECE: u32 = 16;

@inline function record(seq: u64): usize {
  return XMCLOG + <usize>(seq % SLOTS) * XMC_RECORD_SIZE;
}

@inline export function xmcHead(): u64 { return load<u64>(M_XMC_HEAD); }

/** True when other agents changed code since this vCPU last serialized. */
@inline export function unsynchronized(): bool {
  return load<u64>(M_XMC_HEAD) != load<u64>(ACTIVE + C_SERIAL_SEQ);
}

/**
 * Logs a store of n bytes at pa by `agent`; `src` holds the new bytes (RAM still holds the
 * old ones). A vCPU's own store does not make it unsynchronized.
 */
export function noteCodeWrite(pa: u64, src: usize, n: u32, agent: u32): void {
  let seq = load<u64>(M_XMC_HEAD);
  const storeSeq = seq;
  const self = cpuIndex();
  const wasSynchronized = agent == self && load<u64>(ACTIVE + C_SERIAL_SEQ) == seq;
  for (let off: u32 = 0; off < n; off += PIECE) {
    const len = min(PIECE, n - off);
    const r = record(seq);
    memory.fill(r, 0, XMC_RECORD_SIZE);
    store<u64>(r, seq, X_SEQ);
    store<u64>(r, storeSeq, X_STORE);
    store<u32>(r, <u32>(pa + off), X_PA);
    store<u16>(r, <u16>agent, X_AGENT);
    store<u16>(r, <u16>len, X_LEN);
    memory.copy(r + X_OLD, RAM + <usize>(pa + off), len);
    memory.copy(r + X_NEW, src + off, len);
    seq++;
  }
  store<u64>(M_XMC_HEAD, seq);
  if (wasSynchronized) store<u64>(ACTIVE + C_SERIAL_SEQ, seq);
}

/**
 * Reports the log records not yet reported as CODE_WRITE events, at virtual time `clock`
 * (the run loop calls it after the storing instruction, the host after its write).
 */
export function logCodeWrites(cpu: u32, clock: u64): void {
  const head = load<u64>(M_XMC_HEAD);
  let seq = load<u64>(M_XMC_EVENTED);
  if (head - seq > SLOTS) seq = head - SLOTS;
  for (; seq < head; seq++) {
    const r = record(seq);
    logEventFor(cpu, clock, EVENTKIND_CODE_WRITE, <u64>load<u32>(r, X_PA),
      <u64>load<u16>(r, X_LEN) | (<u64>load<u16>(r, X_AGENT) << 16) | (load<u64>(r, X_STORE) << 32),
      seq, load<u64>(r, X_OLD), load<u64>(r, X_NEW));
  }
  store<u64>(M_XMC_EVENTED, head);
}

/** The running vCPU serializes: it will see every store logged so far. */
export function serialize(reason: u32, clock: u64): void {
  const head = load<u64>(M_XMC_HEAD);
  if (load<u64>(ACTIVE + C_SERIAL_SEQ) == head) return;
  store<u64>(ACTIVE + C_SERIAL_SEQ, head);
  logEvent(clock, EVENTKIND_SERIALIZE, <u64>reason, head, 0, 0, 0);
}

// Result of check(): which bytes of the instruction changed, and how they looked before.
let CHANGED: u32 = 0;
let LAST_AGENT: u32 = 0;
let LAST_STORE: u64 = 0;
/** The instruction's bytes as of the last serialization. */
const OLD_BYTES: usize = HAZARD_BUF;

/**
 * Checks the instruction of len bytes at pa against stores by other agents since this vCPU's
 * last serialization. Returns true for a hazard (two or more changed bytes).
 */
export function check(pa: u64, len: u32): bool {
  const self = cpuIndex();
  const head = load<u64>(M_XMC_HEAD);
  let from = load<u64>(ACTIVE + C_SERIAL_SEQ);
  if (head - from > SLOTS) from = head - SLOTS; // older records are gone; check what remains
  CHANGED = 0;
  memory.copy(OLD_BYTES, RAM + <usize>pa, len);
  // Newest first, so the oldest record's "old" bytes end up in OLD_BYTES.
  for (let seq = head; seq > from; seq--) {
    const r = record(seq - 1);
    if (<u32>load<u16>(r, X_AGENT) == self) continue;
    const rpa = <u64>load<u32>(r, X_PA), rlen = <u64>load<u16>(r, X_LEN);
    const lo = max(rpa, pa), hi = min(rpa + rlen, pa + len);
    for (let a = lo; a < hi; a++) {
      const oldByte = load<u8>(r + X_OLD + <usize>(a - rpa));
      if (oldByte == load<u8>(r + X_NEW + <usize>(a - rpa))) continue;
      CHANGED |= <u32>1 << <u32>(a - pa);
      store<u8>(OLD_BYTES + <usize>(a - pa), oldByte);
      LAST_AGENT = <u32>load<u16>(r, X_AGENT);
      LAST_STORE = load<u64>(r, X_STORE);
    }
  }
  return popcnt<u32>(CHANGED) >= 2;
}

/** Logs the hazard check() found at rip/pa. */
export function reportHazard(rip: u64, pa: u64, len: u32, clock: u64): void {
  store<u64>(M_HAZARDS, load<u64>(M_HAZARDS) + 1);
  logEvent(clock, EVENTKIND_HAZARD, rip, pa | (<u64>LAST_AGENT << 48),
    <u64>len | (<u64>CHANGED << 16) | (<u64>load<u32>(M_XMC_POLICY) << 40), load<u64>(OLD_BYTES), LAST_STORE);
}

/** Fills buf with the bytes the policy executes: old, or a seeded mix of old and new. */
export function hazardBytes(buf: usize, pa: u64, len: u32): void {
  memory.copy(buf, RAM + <usize>pa, len);
  const policy = load<u32>(M_XMC_POLICY);
  if (policy != XMCPOLICY_OLD && policy != XMCPOLICY_TORN) return;
  let x = load<u64>(M_RNG_STATE) | 1;
  for (let i: u32 = 0; i < len; i++) {
    if ((CHANGED & (<u32>1 << i)) == 0) continue;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    if (policy == XMCPOLICY_OLD || (x & 1) != 0) store<u8>(buf + i, load<u8>(OLD_BYTES + i));
  }
  store<u64>(M_RNG_STATE, x);
}
