// @ts-check
// Run Python code read from stdin in the demos' Pyodide under Node.js; print what it prints.
//
//   node lite_run.mjs PYODIDE_DIR [WHEEL...] < code.py
//
// The code runs as one cell: its lines are registered with linecache under the name
// "<cell>", as IPython registers a cell, so tracebacks and linecache find them. Each
// WHEEL is installed first, as `%pip install` does in the browser. The tests use this to
// check that each demo's expected output is what the browser's Python prints.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dist, ...wheels] = process.argv.slice(2).map((arg) => path.resolve(arg));
if (!dist) {
  console.error("usage: node lite_run.mjs PYODIDE_DIR [WHEEL...] < code.py");
  process.exit(2);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const code = Buffer.concat(chunks).toString("utf8");

const { loadPyodide } = await import(pathToFileURL(path.join(dist, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: dist + path.sep, messageCallback: () => {} });
pyodide.setStdout({ write: (bytes) => (process.stdout.write(bytes), bytes.length) });
pyodide.setStderr({ write: (bytes) => (process.stderr.write(bytes), bytes.length) });
for (const wheel of wheels) {
  await pyodide.loadPackage(wheel, { messageCallback: () => {} });
}
const globals = pyodide.toPy({ __name__: "__main__", CELL: code });
await pyodide.runPythonAsync(
  `
import linecache
linecache.cache["<cell>"] = (len(CELL), None, CELL.splitlines(True), "<cell>")
exec(compile(CELL, "<cell>", "exec"), {"__name__": "__main__"})
`,
  { globals },
);
