// A small printf for the tests: expected lines are built from the kernel's own format strings
// (quoted at each use with the file and function), not from tramplab's output.
// Handles the conversions those strings use: %s %d %u %x %lx %ld %lu %llu with flags
// "-" and "0", a width, a precision (".*" too) and %c; %% is a percent sign.
export function cformat(fmt: string, ...args: (string | number | bigint)[]): string {
  let i = 0;
  const spec = /%([-0]?)(\d*)(?:\.(\*|\d+))?(?:ll|l|z)?([sdux%c])/g;
  return fmt.replace(spec, (_m, flag: string, width: string, prec: string, conv: string) => {
    if (conv === "%") return "%";
    const precision = prec === "*" ? Number(args[i++]) : prec ? Number(prec) : undefined;
    const a = args[i++];
    let s: string;
    if (conv === "s") s = String(a).slice(0, precision);
    else if (conv === "c") s = String(a);
    else if (conv === "x") s = BigInt(a).toString(16);
    else s = BigInt(a).toString();
    const w = width ? Number(width) : 0;
    if (s.length >= w) return s;
    if (flag === "-") return s.padEnd(w);
    if (flag === "0") return s.startsWith("-") ? "-" + s.slice(1).padStart(w - 1, "0") : s.padStart(w, "0");
    return s.padStart(w);
  });
}
