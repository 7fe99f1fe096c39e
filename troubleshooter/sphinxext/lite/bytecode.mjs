// @ts-check
// Build step: start Pyodide under Node.js and run bytecode.py in it.
//
//   node bytecode.mjs DIST OUT PACKAGES
//
// DIST holds Pyodide (pyodide.mjs, the lock, the wheels it names); OUT receives the
// compiled python_stdlib.zip and wheels; PACKAGES (comma-separated lock names) are
// loaded first, as the browser kernel loads them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [dist, out, packages] = process.argv.slice(2).map((arg, index) =>
  index < 2 ? path.resolve(arg) : arg,
);
if (!dist || !out || !packages) {
  console.error("usage: node bytecode.mjs DIST OUT PACKAGES");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(path.join(dist, "pyodide.mjs")).href);
const pyodide = await loadPyodide({
  indexURL: dist + path.sep,
  packages: packages.split(","),
  // Loading messages are noise in a Sphinx build; errors still reach stderr.
  messageCallback: () => {},
});
pyodide.mountNodeFS("/dist", dist);
pyodide.mountNodeFS("/out", out);

const here = path.dirname(fileURLToPath(import.meta.url));
const script = await readFile(path.join(here, "bytecode.py"), "utf8");
const lock = JSON.parse(await readFile(path.join(dist, "pyodide-lock.json"), "utf8"));
const wheels = Object.values(lock.packages).map((entry) => entry.file_name);
const globals = pyodide.toPy({ __name__: "__main__", DIST: "/dist", OUT: "/out", WHEELS: wheels });
await pyodide.runPythonAsync(script, { globals, filename: "bytecode.py" });
