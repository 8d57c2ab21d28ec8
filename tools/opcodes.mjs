// The supported instruction set, one row per encoding.
//
// This table is the single description of what the core decodes. `npm run gen` turns it into
//   assembly/gen/opcodes.ts   packed decode tables and handler ids for the core,
//   assembly/gen/dispatch.ts  the switch from handler id to handler call,
//   src/gen/opcodes.ts        the same rows for TypeScript (names, random test generation).
// Anything not in this table decodes as #UD.
//
// A row is [encoding, mnemonic, operands, size, call, flags]:
//   encoding  "01", "0F AF", "80/3" (ModRM.reg digit), "0F 01 F8" (exact ModRM byte),
//             "F3 0F B8" (mandatory prefix), "50+r" (register in the opcode), "70+cc".
//   operands  SDM notation: E/G = ModRM r/m and reg, M = memory only, R = register only,
//             Z = register in the opcode, I = immediate (b sign-extended, u zero-extended
//             byte, w, z = 16/32 sign-extended, v = full operand size), J = relative branch,
//             O = absolute address (moffs), C = control register, S = segment register (ModRM.reg),
//             AL/rAX/CL/1 implicit.
//             Suffix b = byte, w = word, d = dword, q = qword, v = operand size.
//   size      operand-size rule: b, w, d, q, v (16/32/64 by 66 and REX.W, default 32),
//             d64 (default 64, 66 gives 16), f64 (always 64), - (none).
//   call      the handler call the dispatch switch makes; `e` is the decoded entry and `s`
//             the operand size (0 = 8 ... 3 = 64 bits), a constant in each generated case: rows
//             sized v or d64 get one case per size, so handlers never branch on it.
//   flags     lock = LOCK allowed with a memory operand; raxrm = the implicit AL/rAX is the
//             r/m operand; nosz16 = #UD with a 66 prefix; modreg = ModRM.mod is ignored and
//             rm names a register (mov to and from control registers); end = the instruction
//             ends a decoded block (it may change RIP, the mode, or stay on itself);
//             noprefix = #UD with a 66, F2 or F3 prefix;
//             near = a near branch: 64-bit operand size, except that AMD parts honour a 66
//             prefix (16-bit target, 16-bit return address, rel16 for Jz) and Intel parts
//             ignore it; one handler variant for each of the two sizes;
//             hot = dispatched from the run loop itself (its 16-bit forms excepted); every
//             other handler is reached through one out-of-line call, which keeps the loop
//             small enough for the engine to keep its state in registers.

const rows = [];
const row = (enc, mn, ops, size, call, flags = "") => rows.push({ enc, mn, ops, size, call, flags });

// ---- integer ALU ----
const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
ALU.forEach((mn, i) => {
  const k = `ALU_${mn.toUpperCase()}`;
  const lock = mn === "cmp" ? "" : "lock";
  const hex = (n) => n.toString(16).padStart(2, "0").toUpperCase();
  row(hex(i * 8 + 0), mn, "Eb,Gb", "b", `aluEG(e, s, ${k})`, `${lock} hot`.trim());
  row(hex(i * 8 + 1), mn, "Ev,Gv", "v", `aluEG(e, s, ${k})`, `${lock} hot`.trim());
  row(hex(i * 8 + 2), mn, "Gb,Eb", "b", `aluGE(e, s, ${k})`, "hot");
  row(hex(i * 8 + 3), mn, "Gv,Ev", "v", `aluGE(e, s, ${k})`, "hot");
  row(hex(i * 8 + 4), mn, "AL,Ib", "b", `aluEI(e, s, ${k})`, "raxrm hot");
  row(hex(i * 8 + 5), mn, "rAX,Iz", "v", `aluEI(e, s, ${k})`, "raxrm hot");
  row(`80/${i}`, mn, "Eb,Ib", "b", `aluEI(e, s, ${k})`, `${lock} hot`.trim());
  row(`81/${i}`, mn, "Ev,Iz", "v", `aluEI(e, s, ${k})`, `${lock} hot`.trim());
  row(`83/${i}`, mn, "Ev,Ib", "v", `aluEI(e, s, ${k})`, `${lock} hot`.trim());
});
row("84", "test", "Eb,Gb", "b", "testEG(e, s)", "hot");
row("85", "test", "Ev,Gv", "v", "testEG(e, s)", "hot");
row("A8", "test", "AL,Ib", "b", "testEI(e, s)", "raxrm hot");
row("A9", "test", "rAX,Iz", "v", "testEI(e, s)", "raxrm hot");
row("F6/0", "test", "Eb,Ib", "b", "testEI(e, s)", "hot");
row("F6/1", "test", "Eb,Ib", "b", "testEI(e, s)", "hot");
row("F7/0", "test", "Ev,Iz", "v", "testEI(e, s)", "hot");
row("F7/1", "test", "Ev,Iz", "v", "testEI(e, s)", "hot");
row("FE/0", "inc", "Eb", "b", "incDecE(e, s, false)", "lock hot");
row("FE/1", "dec", "Eb", "b", "incDecE(e, s, true)", "lock hot");
row("FF/0", "inc", "Ev", "v", "incDecE(e, s, false)", "lock hot");
row("FF/1", "dec", "Ev", "v", "incDecE(e, s, true)", "lock hot");
row("F6/2", "not", "Eb", "b", "notE(e, s)", "lock");
row("F7/2", "not", "Ev", "v", "notE(e, s)", "lock");
row("F6/3", "neg", "Eb", "b", "negE(e, s)", "lock");
row("F7/3", "neg", "Ev", "v", "negE(e, s)", "lock");

// ---- multiply and divide ----
row("F6/4", "mul", "Eb", "b", "mulE(e, s, false)");
row("F7/4", "mul", "Ev", "v", "mulE(e, s, false)");
row("F6/5", "imul", "Eb", "b", "mulE(e, s, true)");
row("F7/5", "imul", "Ev", "v", "mulE(e, s, true)");
row("F6/6", "div", "Eb", "b", "divE(e, s, false)");
row("F7/6", "div", "Ev", "v", "divE(e, s, false)");
row("F6/7", "idiv", "Eb", "b", "divE(e, s, true)");
row("F7/7", "idiv", "Ev", "v", "divE(e, s, true)");
row("0F AF", "imul", "Gv,Ev", "v", "imulGE(e, s)", "hot");
row("69", "imul", "Gv,Ev,Iz", "v", "imulGEI(e, s)");
row("6B", "imul", "Gv,Ev,Ib", "v", "imulGEI(e, s)");

// ---- shifts and rotates ----
const SHIFT = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"];
SHIFT.forEach((mn, i) => {
  const k = `SH_${(mn === "sal" ? "shl" : mn).toUpperCase()}`;
  row(`C0/${i}`, mn, "Eb,Ub", "b", `shiftE(e, s, ${k}, false)`);
  const hot = ["shl", "shr", "sar"].includes(mn) ? "hot" : "";
  row(`C1/${i}`, mn, "Ev,Ub", "v", `shiftE(e, s, ${k}, false)`, hot);
  row(`D0/${i}`, mn, "Eb,1", "b", `shiftE(e, s, ${k}, false)`);
  row(`D1/${i}`, mn, "Ev,1", "v", `shiftE(e, s, ${k}, false)`, hot);
  row(`D2/${i}`, mn, "Eb,CL", "b", `shiftE(e, s, ${k}, true)`);
  row(`D3/${i}`, mn, "Ev,CL", "v", `shiftE(e, s, ${k}, true)`, hot);
});
row("0F A4", "shld", "Ev,Gv,Ub", "v", "shiftDouble(e, s, false, false)");
row("0F A5", "shld", "Ev,Gv,CL", "v", "shiftDouble(e, s, false, true)");
row("0F AC", "shrd", "Ev,Gv,Ub", "v", "shiftDouble(e, s, true, false)");
row("0F AD", "shrd", "Ev,Gv,CL", "v", "shiftDouble(e, s, true, true)");

// ---- bit operations ----
const BT = [["bt", "BT_TEST", "A3"], ["bts", "BT_SET", "AB"], ["btr", "BT_RESET", "B3"], ["btc", "BT_COMPLEMENT", "BB"]];
BT.forEach(([mn, k, op], i) => {
  row(`0F ${op}`, mn, "Ev,Gv", "v", `btEG(e, s, ${k})`, mn === "bt" ? "" : "lock");
  row(`0F BA/${4 + i}`, mn, "Ev,Ub", "v", `btEI(e, s, ${k})`, mn === "bt" ? "" : "lock");
});
row("0F BC", "bsf", "Gv,Ev", "v", "bitScan(e, s, false)");
row("0F BD", "bsr", "Gv,Ev", "v", "bitScan(e, s, true)");
row("F3 0F BC", "tzcnt", "Gv,Ev", "v", "bitCount(e, s, BC_TZCNT)");
row("F3 0F BD", "lzcnt", "Gv,Ev", "v", "bitCount(e, s, BC_LZCNT)");
row("F3 0F B8", "popcnt", "Gv,Ev", "v", "bitCount(e, s, BC_POPCNT)");

// ---- data movement ----
row("88", "mov", "Eb,Gb", "b", "movEG(e, s)", "hot");
row("89", "mov", "Ev,Gv", "v", "movEG(e, s)", "hot");
row("8A", "mov", "Gb,Eb", "b", "movGE(e, s)", "hot");
row("8B", "mov", "Gv,Ev", "v", "movGE(e, s)", "hot");
row("C6/0", "mov", "Eb,Ib", "b", "movEI(e, s)", "hot");
row("C7/0", "mov", "Ev,Iz", "v", "movEI(e, s)", "hot");
row("B0+r", "mov", "Zb,Ib", "b", "movZI(e, s)", "hot");
row("B8+r", "mov", "Zv,Iv", "v", "movZI(e, s)", "hot");
row("A0", "mov", "AL,Ob", "b", "movAO(e, s)");
row("A1", "mov", "rAX,Ov", "v", "movAO(e, s)");
row("A2", "mov", "Ob,AL", "b", "movOA(e, s)");
row("A3", "mov", "Ov,rAX", "v", "movOA(e, s)");
row("D7", "xlat", "", "-", "xlat(e)");
row("0F B6", "movzx", "Gv,Eb", "v", "movExtend(e, s, 0, false)", "hot");
row("0F B7", "movzx", "Gv,Ew", "v", "movExtend(e, s, 1, false)", "hot");
row("0F BE", "movsx", "Gv,Eb", "v", "movExtend(e, s, 0, true)", "hot");
row("0F BF", "movsx", "Gv,Ew", "v", "movExtend(e, s, 1, true)", "hot");
row("63", "movsxd", "Gv,Ed", "v", "movExtend(e, s, 2, true)", "hot");
row("8D", "lea", "Gv,M", "v", "leaGM(e, s)", "hot");
row("8C", "mov", "Ev,Sw", "v", "movESreg(e, s)");
row("8E", "mov", "Sw,Ew", "w", "movSregE(e)", "end");
row("86", "xchg", "Eb,Gb", "b", "xchgEG(e, s)", "lock");
row("87", "xchg", "Ev,Gv", "v", "xchgEG(e, s)", "lock");
row("90+r", "xchg", "Zv,rAX", "v", "xchgEG(e, s)", "raxrm");
row("0F C8+r", "bswap", "Zv", "v", "bswapZ(e, s)");
row("98", "cbw", "", "v", "convertA(e, s)");
row("99", "cwd", "", "v", "convertAD(e, s)");
row("0F 40+cc", "cmov", "Gv,Ev", "v", "cmovGE(e, s)", "hot");
row("0F 90+cc", "set", "Eb", "b", "setccE(e)", "hot");
row("0F B0", "cmpxchg", "Eb,Gb", "b", "cmpxchgEG(e, s)", "lock");
row("0F B1", "cmpxchg", "Ev,Gv", "v", "cmpxchgEG(e, s)", "lock");
row("0F C7/1", "cmpxchg8b", "Mq", "v", "cmpxchgDouble(e, s)", "lock");
row("0F C0", "xadd", "Eb,Gb", "b", "xaddEG(e, s)", "lock");
row("0F C1", "xadd", "Ev,Gv", "v", "xaddEG(e, s)", "lock");

// ---- stack ----
row("50+r", "push", "Zv", "d64", "pushZ(e, s)", "hot");
row("58+r", "pop", "Zv", "d64", "popZ(e, s)", "hot");
row("6A", "push", "Ib", "d64", "pushI(e, s)");
row("68", "push", "Iz", "d64", "pushI(e, s)");
row("FF/6", "push", "Ev", "d64", "pushE(e, s)");
row("8F/0", "pop", "Ev", "d64", "popE(e, s)");
row("C9", "leave", "", "d64", "leave(e, s)");
row("C8", "enter", "Iw,Ub", "d64", "enter(e, s)");
row("9C", "pushf", "", "d64", "pushf(e, s)");
row("9D", "popf", "", "d64", "popf(e, s)", "end");
row("9E", "sahf", "", "-", "sahf(e)");
row("9F", "lahf", "", "-", "lahf(e)");

// ---- control transfer ----
row("70+cc", "j", "Jb", "f64", "jcc(e, s)", "near end hot");
row("0F 80+cc", "j", "Jz", "f64", "jcc(e, s)", "near end hot");
row("EB", "jmp", "Jb", "f64", "jmpJ(e, s)", "near end hot");
row("E9", "jmp", "Jz", "f64", "jmpJ(e, s)", "near end hot");
row("FF/4", "jmp", "Ev", "f64", "jmpE(e, s)", "near end hot");
row("E8", "call", "Jz", "f64", "callJ(e, s)", "near end hot");
row("FF/2", "call", "Ev", "f64", "callE(e, s)", "near end hot");
row("C3", "ret", "", "f64", "ret(e, s)", "near end hot");
row("C2", "ret", "Iw", "f64", "ret(e, s)", "near end hot");
row("E3", "jrcxz", "Jb", "f64", "jrcxz(e, s)", "near end");
row("E2", "loop", "Jb", "f64", "loopJ(e, s, LOOP_ANY)", "near end");
row("E1", "loope", "Jb", "f64", "loopJ(e, s, LOOP_WHILE_EQUAL)", "near end");
row("E0", "loopne", "Jb", "f64", "loopJ(e, s, LOOP_WHILE_NOT_EQUAL)", "near end");

// ---- flags ----
row("F8", "clc", "", "-", "flagOp(e, FLAGOP_CLC)");
row("F9", "stc", "", "-", "flagOp(e, FLAGOP_STC)");
row("F5", "cmc", "", "-", "flagOp(e, FLAGOP_CMC)");
row("FC", "cld", "", "-", "flagOp(e, FLAGOP_CLD)");
row("FD", "std", "", "-", "flagOp(e, FLAGOP_STD)");

// ---- strings ----
row("A4", "movs", "", "b", "movs(e, s)", "end");
row("A5", "movs", "", "v", "movs(e, s)", "end");
row("A6", "cmps", "", "b", "cmps(e, s)", "end");
row("A7", "cmps", "", "v", "cmps(e, s)", "end");
row("AA", "stos", "", "b", "stos(e, s)", "end");
row("AB", "stos", "", "v", "stos(e, s)", "end");
row("AC", "lods", "", "b", "lods(e, s)", "end");
row("AD", "lods", "", "v", "lods(e, s)", "end");
row("AE", "scas", "", "b", "scas(e, s)", "end");
row("AF", "scas", "", "v", "scas(e, s)", "end");

// ---- no-ops, hints, fences ----
row("90", "nop", "", "-", "nop(e)", "hot");
row("F3 90", "pause", "", "-", "pause(e)");
row("0F 1F", "nop", "Ev", "v", "nop(e)", "hot");
for (const op of ["18", "19", "1A", "1B", "1C", "1D", "1E"]) row(`0F ${op}`, "nop", "Ev", "v", "nop(e)");
row("0F 0D", "prefetch", "M", "-", "nop(e)", "hot");
row("0F AE/5", "lfence", "R", "-", "fence(e)", "noprefix");
row("0F AE/6", "mfence", "R", "-", "fence(e)", "noprefix");
row("0F AE/7", "sfence", "R", "-", "fence(e)", "noprefix");

// ---- system ----
row("0F A2", "cpuid", "", "-", "cpuid(e)", "end");
row("0F 31", "rdtsc", "", "-", "rdtsc(e)");
row("0F 01 F9", "rdtscp", "", "-", "rdtscp(e)");
row("0F 0B", "ud2", "", "-", "ud2(e)", "end");
row("E4", "in", "AL,Ub", "b", "portIn(e, s, false)");
row("E5", "in", "rAX,Ub", "v", "portIn(e, s, false)");
row("EC", "in", "AL", "b", "portIn(e, s, true)");
row("ED", "in", "rAX", "v", "portIn(e, s, true)");
row("E6", "out", "Ub,AL", "b", "portOut(e, s, false)");
row("E7", "out", "Ub,rAX", "v", "portOut(e, s, false)");
row("EE", "out", "AL", "b", "portOut(e, s, true)");
row("EF", "out", "rAX", "v", "portOut(e, s, true)");
row("0F 08", "invd", "", "-", "cacheFlush(e)");
row("0F 09", "wbinvd", "", "-", "cacheFlush(e)");
row("0F 33", "rdpmc", "", "-", "rdpmc(e)");
row("CC", "int3", "", "-", "int3(e)", "end");
row("F1", "int1", "", "-", "int1(e)", "end");
row("CD", "int", "Ub", "-", "intN(e)", "end");
row("0F 05", "syscall", "", "-", "syscall(e)", "end");
row("0F 07", "sysret", "", "v", "sysret(e, s)", "end");
row("CF", "iret", "", "v", "iret(e, s)", "end");
row("F4", "hlt", "", "-", "hlt(e)", "end");
row("FA", "cli", "", "-", "cli(e)", "end");
row("FB", "sti", "", "-", "sti(e)", "end");
row("0F 01 F8", "swapgs", "", "-", "swapgs(e)");
row("0F 01 C1", "vmcall", "", "-", "vmcall(e)", "end noprefix");
row("0F 32", "rdmsr", "", "-", "rdmsr(e)");
row("0F 30", "wrmsr", "", "-", "wrmsr(e)", "end");
row("0F 20", "mov", "Rq,Cq", "f64", "movRC(e)", "modreg");
row("0F 22", "mov", "Cq,Rq", "f64", "movCR(e)", "modreg end");
row("0F 01/0", "sgdt", "M", "-", "descTableStore(e, false)");
row("0F 01/1", "sidt", "M", "-", "descTableStore(e, true)");
row("0F 01/2", "lgdt", "M", "-", "descTableLoad(e, false)", "end");
row("0F 01/3", "lidt", "M", "-", "descTableLoad(e, true)", "end");
row("0F 01/7", "invlpg", "M", "-", "invlpg(e)", "end");
row("0F 00/3", "ltr", "Ew", "w", "ltr(e, s)", "end");

export { rows };

// Rotate and shift kinds, ALU kinds and other handler constants live in the core's own
// sources (assembly/ops/*); the generator only passes their names through.
