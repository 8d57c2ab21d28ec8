#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write("tramplab: not built yet; run `npm run build` first\n");
  process.exit(2);
}
// `tramplab run | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => { if (e.code === "EPIPE") process.exit(process.exitCode ?? 0); throw e; });
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
