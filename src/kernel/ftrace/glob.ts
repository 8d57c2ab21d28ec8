// set_ftrace_filter / set_ftrace_notrace syntax: whitespace-separated globs (`*`, `?`,
// `[abc]`), a leading `!` removes matches from what the earlier patterns selected. For records
// (selectRecords) also `GLOB:mod:MODULE` (functions of a module; an empty glob is all of them)
// and a site's address written `0x...` (what ftrace_set_filter_ip adds).

export class GlobError extends Error {}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) throw new GlobError(`unterminated [ in ${glob}`);
      re += "[" + glob.slice(i + 1, end).replace(/\\/g, "\\\\") + "]";
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The names `patterns` select from `names`, in the order of `names`. */
export function selectFunctions(patterns: string, names: readonly string[]): Set<string> {
  const selected = new Set<string>();
  for (const raw of patterns.trim().split(/\s+/).filter(Boolean)) {
    const remove = raw.startsWith("!");
    const re = globToRegExp(remove ? raw.slice(1) : raw);
    for (const n of names) {
      if (!re.test(n)) continue;
      if (remove) selected.delete(n);
      else selected.add(n);
    }
  }
  return selected;
}

/** What selectRecords matches on: a record's function, module and site. */
export interface Selectable {
  name: string;
  mod?: string;
  ip: bigint;
}

/** One term of a filter, parsed. */
interface Term {
  remove: boolean;
  match: (r: Selectable) => boolean;
  /** Names a module (`:mod:`): may match nothing until that module is loaded. */
  mod?: string;
}

function parseTerm(raw: string): Term {
  const remove = raw.startsWith("!");
  const body = remove ? raw.slice(1) : raw;
  if (/^0x[0-9a-f]+$/i.test(body)) {
    const ip = BigInt(body);
    return { remove, match: (r) => r.ip === ip };
  }
  const at = body.indexOf(":mod:");
  if (at >= 0) {
    const mod = body.slice(at + 5);
    if (!/^[A-Za-z0-9_-]+$/.test(mod)) throw new GlobError(`bad module name in ${raw}`);
    const glob = body.slice(0, at);
    const re = glob === "" ? undefined : globToRegExp(glob);
    return { remove, mod, match: (r) => r.mod === mod && (!re || re.test(r.name)) };
  }
  const re = globToRegExp(body);
  return { remove, match: (r) => re.test(r.name) };
}

/**
 * The indices of `records` that `patterns` select, and whether a pattern names a module
 * (such a filter may select nothing now and something once the module is loaded).
 */
export function selectRecords(patterns: string, records: readonly Selectable[]): { selected: Set<number>; namesModule: boolean } {
  const selected = new Set<number>();
  let namesModule = false;
  for (const raw of patterns.trim().split(/\s+/).filter(Boolean)) {
    const t = parseTerm(raw);
    if (t.mod !== undefined) namesModule = true;
    records.forEach((r, i) => {
      if (!t.match(r)) return;
      if (t.remove) selected.delete(i);
      else selected.add(i);
    });
  }
  return { selected, namesModule };
}
