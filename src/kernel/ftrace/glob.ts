// set_ftrace_filter / set_ftrace_notrace syntax: whitespace-separated globs (`*`, `?`,
// `[abc]`), a leading `!` removes matches from what the earlier patterns selected.

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
