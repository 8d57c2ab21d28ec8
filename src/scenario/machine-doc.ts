// The machine section's table in docs/scenarios.md, made from the options table
// (src/kernel/options.ts). test/options.test.ts checks that the docs hold this text, and
// rewrites them with UPDATE_DOCS=1.
import { fillText, MACHINE_OPTIONS, type Option } from "../kernel/options.js";
import { formatTime } from "../machine/units.js";

/** A value as the docs show it: names in backticks, numbers plain, durations in their unit. */
function shownValue(o: Option, v: unknown): string {
  switch (o.type.kind) {
    case "enum":
    case "bool":
    case "release":
    case "kernel": return `\`${String(v)}\``;
    case "duration": return o.type.wholeJiffies ? String(v) : formatTime(v as bigint);
    default: return String(v);
  }
}

function row(o: Option): string {
  const t = o.type;
  const value = fillText(o.scenario!.doc, {
    range: t.kind === "int" ? `${t.min} to ${t.max}` : "",
    choices: t.kind === "enum" ? t.choices.map((c) => `\`${c}\``).join(", ") : "",
  });
  const dflt = o.scenario!.shownDefault ?? (o.default === undefined ? "none" : shownValue(o, o.default));
  return `| \`${o.key}\` | ${value} | ${dflt} |`;
}

/** The markdown table of the machine section's keys: key, value, default. */
export function machineOptionsMarkdown(): string {
  return ["| key | value | default |", "| --- | --- | --- |", ...MACHINE_OPTIONS.map(row)].join("\n");
}
