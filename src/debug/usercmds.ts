// User-defined commands: `define NAME` ... `end` and `document NAME` ... `end`, as gdb has them,
// with $argc and $arg0..$arg9 in the body. Bounded so a command file cannot hang the debugger:
// a definition nests `define` blocks at most 8 deep and has at most 1000 lines; a user command
// calls user commands (itself included) at most 16 deep; one command typed runs at most 100000
// lines of user-command bodies in all; at most 100 commands are defined.
import type { Result, SessionHost as Session, UserCommand } from "./host.js";
import { DebugError } from "./engine.js";

export const USER_LIMITS = { nesting: 8, lines: 1000, depth: 16, run: 100_000, commands: 100, args: 10 } as const;

const NAME = /^[A-Za-z_][\w-]*$/;

/** define NAME / document NAME: starts collecting the lines up to `end`. */
export function begin(s: Session, kind: "define" | "document", name: string, builtin: boolean): string {
  if (!NAME.test(name)) throw new DebugError(`usage: ${kind} NAME (letters, digits, _ and -, not starting with a digit)`);
  if (builtin) throw new DebugError(`"${name}" is a built-in command; user commands cannot replace or document it`);
  if (kind === "document" && !s.userCommands.has(name)) throw new DebugError(`Undefined command: "${name}".`);
  if (kind === "define" && !s.userCommands.has(name) && s.userCommands.size >= USER_LIMITS.commands) {
    throw new DebugError(`there are already ${USER_LIMITS.commands} user commands, the most kept`);
  }
  s.collecting = { kind, name, lines: [], open: 0 };
  return kind === "define"
    ? `Type commands for definition of "${name}".\nEnd with a line saying just "end".`
    : `Type documentation for "${name}".\nEnd with a line saying just "end".`;
}

/** One line typed while a definition is open. */
export function collect(s: Session, raw: string): string {
  const c = s.collecting!;
  const line = raw.trim();
  if (line === "") return "";
  if (line === "end" && c.open === 0) {
    s.collecting = null;
    if (c.kind === "define") s.userCommands.set(c.name, { name: c.name, body: c.lines, doc: s.userCommands.get(c.name)?.doc });
    else s.userCommands.get(c.name)!.doc = c.lines.join("\n");
    return "";
  }
  if (c.kind === "define" && /^(define|document)\s/.test(line)) c.open++;
  else if (line === "end") c.open--;
  if (c.open > USER_LIMITS.nesting || c.lines.length >= USER_LIMITS.lines) {
    s.collecting = null;
    throw new DebugError(`definition of "${c.name}" abandoned: more than ${c.open > USER_LIMITS.nesting
      ? `${USER_LIMITS.nesting} nested define blocks` : `${USER_LIMITS.lines} lines`}`);
  }
  c.lines.push(line);
  return "";
}

/** Runs a user command's body, line by line, stopping at the first error. */
export function runUser(s: Session, u: UserCommand, args: string): Result {
  if (s.userDepth >= USER_LIMITS.depth) {
    throw new DebugError(`user command "${u.name}" nested more than ${USER_LIMITS.depth} deep (recursion?)`);
  }
  const argv = args.split(/\s+/).filter(Boolean);
  if (argv.length > USER_LIMITS.args) throw new DebugError(`a user command takes at most ${USER_LIMITS.args} arguments`);
  if (s.userDepth === 0) s.userLinesLeft = USER_LIMITS.run;
  const out: string[] = [];
  const interruptible = s.interruptible;
  s.interruptible = false; // bodies run synchronously, as sourced commands do
  s.userDepth++;
  try {
    for (const raw of u.body) {
      const errors = s.errors;
      let line: string;
      try {
        if (--s.userLinesLeft < 0) throw new DebugError(`user commands ran more than ${USER_LIMITS.run} lines for one command`);
        line = substitute(raw, argv, u.name);
      } catch (e) {
        if (!(e instanceof DebugError)) throw e;
        out.push(`error: ${e.message}`); // what ran before it stays printed
        s.errors++;
        break;
      }
      const r = s.execute(line);
      if (r.text) out.push(r.text);
      if (r.quit) return { quit: true };
      if (s.errors > errors) break; // gdb stops a user command at its first error
    }
  } finally {
    s.userDepth--;
    s.interruptible = interruptible;
  }
  return out.join("\n");
}

function substitute(line: string, argv: string[], name: string): string {
  return line.replace(/\$argc\b/g, String(argv.length)).replace(/\$arg(\d+)\b/g, (_m, d: string) => {
    const i = Number(d);
    if (i >= argv.length) throw new DebugError(`Missing argument ${i} in user function "${name}".`);
    return argv[i];
  });
}

/** help user-defined, and help NAME for one. */
export function userHelp(s: Session, name?: string): string {
  if (name !== undefined) {
    const u = s.userCommands.get(name)!;
    return u.doc ?? "User-defined.";
  }
  if (s.userCommands.size === 0) return "No user-defined commands.";
  return [...s.userCommands.values()].map((u) => `${u.name} -- ${(u.doc ?? "User-defined.").split("\n")[0]}`).join("\n");
}
