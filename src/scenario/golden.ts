// Golden files: where the one a scenario names lives, and whether it may be read or written.
// A golden file lives in or under the scenario file's own folder, after every symbolic link
// is resolved; any other path is refused when the scenario is checked, before anything runs
// or is written (--update-golden would otherwise write wherever a file says).
import { lstatSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { InputError, inputProblem, type InputKind } from "../io.js";

export interface Golden {
  /** The real path of a golden file the scenario names, or why it cannot be used. */
  locate: (name: string) => { path: string } | { problem: string };
  /** Rewrite golden files with the actual text instead of comparing. */
  update: boolean;
  /** Golden files written (with update). */
  written: string[];
}

export function goldenOf(scenarioFile: string, update: boolean): Golden {
  return { locate: (name) => locateGolden(scenarioFile, name, update), update, written: [] };
}

/** The real path of a file a scenario names, or why it cannot be used. */
type Located = { path: string } | { problem: string };

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * Resolves `name` (relative to the scenario's folder) to a real path in or under that folder.
 * An existing golden file must be a regular file within the golden-file limit; a missing one
 * is a problem unless it is about to be written, and then its folder must exist.
 */
export function locateGolden(scenarioFile: string, name: string, update: boolean): { path: string } | { problem: string } {
  return locateInFolder(scenarioFile, name, "golden file", "golden", update);
}

/**
 * A file other than a golden one that a scenario names (machine.image), under the same rule:
 * in or under the scenario's folder, and an existing regular file within the kind's limit.
 */
export function locateInput(scenarioFile: string, name: string, what: string, kind: InputKind): Located {
  return locateInFolder(scenarioFile, name, what, kind, false);
}

function locateInFolder(scenarioFile: string, name: string, what: string, kind: InputKind, update: boolean): Located {
  const folder = dirname(resolve(scenarioFile));
  let base: string;
  try { base = realpathSync(folder); } catch (e) {
    return { problem: `${what} ${name}: the scenario's folder ${folder} cannot be resolved (${errnoOf(e)})` };
  }
  const given = resolve(folder, name);
  let exists = true;
  try { lstatSync(given); } catch { exists = false; }
  let real: string;
  if (exists) {
    // A symbolic link is followed to what it points at, which must exist.
    try { real = realpathSync(given); } catch (e) {
      return {
        problem: errnoOf(e) === "ENOENT"
          ? `${what} ${name} is a symbolic link to nothing`
          : `${what} ${name} cannot be resolved (${errnoOf(e)})`,
      };
    }
  } else {
    let parent: string;
    try { parent = realpathSync(dirname(given)); } catch {
      return { problem: `${what} ${name}: its folder ${dirname(name)} does not exist` };
    }
    real = join(parent, basename(given));
  }
  const rel = relative(base, real);
  if (rel === "") return { problem: `${what} ${name} is the scenario's folder itself, not a file in it` };
  if (isAbsolute(rel) || rel.split(sep)[0] === "..") {
    const which = kind === "golden" ? "golden files" : "the files a scenario names";
    return { problem: `${what} ${name} is outside the scenario's folder (${real}); ${which} live in or under ${base}` };
  }
  let scenarioReal: string | undefined;
  try { scenarioReal = realpathSync(scenarioFile); } catch { scenarioReal = undefined; }
  if (real === scenarioReal) return { problem: `${what} ${name} is the scenario file itself` };
  if (!exists) {
    if (update) return { path: real };
    const hint = kind === "golden" ? " (run with --update-golden to create it)" : "";
    return { problem: `${what} ${name} does not exist${hint}` };
  }
  const problem = inputProblem(real, kind);
  if (problem) return { problem: `${what} ${name}: ${problem}` };
  return { path: real };
}

/**
 * Writes a golden file located by locateGolden: into a new file beside it, then renamed over
 * it. The old file is replaced, never written through, so a golden file that is a hard link to
 * a file elsewhere leaves that file as it was, and an interrupted write leaves the old text.
 */
export function writeGolden(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let created = false;
  try {
    writeFileSync(temp, text, { flag: "wx" }); // never an existing file or link
    created = true;
    renameSync(temp, path);
  } catch (e) {
    if (created) rmSync(temp, { force: true });
    throw new InputError(`${path}: cannot write (${errnoOf(e)})`);
  }
}
