// What the command families in their own files (framecmds.ts, usercmds.ts) need of a session,
// so that they do not import commands.ts, which imports them.
import type { Engine, Plan, Stop } from "./engine.js";
import type { ReverseRun } from "./reverse.js";

/** What a command asks the front end to do: print, run forward by a plan, run back (in slices, so Ctrl-C is seen), quit. */
export type Result = string | { run: Plan; note?: string } | { reverse: ReverseRun } | { stop: Stop } | { quit: true };

/** A command's names, usage line, help and handler (commands.ts has the table). */
export interface CommandSpec<S> {
  names: string[];
  usage: string;
  help: string;
  /** Takes the rest of the line as typed (no /FMT split): echo, printf, define... */
  raw?: boolean;
  run(s: S, args: string): Result;
}

export interface FrameSelection { level: number; stamp: string }

export interface UserCommand { name: string; body: string[]; doc?: string }

/** A define or document block being typed: the lines so far and how many inner blocks are open. */
export interface Collecting { kind: "define" | "document"; name: string; lines: string[]; open: number }

export interface SessionHost {
  readonly engine: Engine;
  frameSelection: FrameSelection | null;
  readonly userCommands: Map<string, UserCommand>;
  collecting: Collecting | null;
  userDepth: number;
  userLinesLeft: number;
  interruptible: boolean;
  errors: number;
  execute(raw: string): { text: string; quit?: boolean };
}
