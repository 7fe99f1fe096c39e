// @ts-check
// Run cells of Python read from stdin (a JSON list of strings) in the demos' Pyodide under
// Node.js; print what they print. For tests only (pyodide_run.py).
//
//   node pyodide_run.mjs [--ipython] PYODIDE_DIR [WHEEL...] < cells.json
//
// Each cell is registered with linecache under the name "<cell N>", as IPython registers a
// cell, so tracebacks and linecache find its lines; a cell may use top-level await, as in a
// notebook. With --ipython the cells run in IPython instead, as the browser kernel runs them
// (get_ipython, cell events, magics). Each WHEEL is installed first, as `%pip install` does
// in the browser.
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const ipython = args[0] === "--ipython";
const [dist, ...wheels] = args.slice(ipython ? 1 : 0).map((arg) => path.resolve(arg));
if (!dist) {
  console.error("usage: node pyodide_run.mjs [--ipython] PYODIDE_DIR [WHEEL...] < cells.json");
  process.exit(2);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cells = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const { loadPyodide } = await import(pathToFileURL(path.join(dist, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: dist + path.sep, messageCallback: () => {} });
pyodide.setStdout({ write: (bytes) => (process.stdout.write(bytes), bytes.length) });
pyodide.setStderr({ write: (bytes) => (process.stderr.write(bytes), bytes.length) });
for (const wheel of wheels) {
  await pyodide.loadPackage(wheel, { messageCallback: () => {} });
}
const globals = pyodide.toPy({ __name__: "__main__", CELLS: cells });
if (ipython) {
  await pyodide.loadPackage("ipython", { messageCallback: () => {} });
  await pyodide.runPythonAsync(
    `
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
for cell in CELLS:
    result = await shell.run_cell_async(
        cell, store_history=True, transformed_cell=shell.transform_cell(cell)
    )
    shell.events.trigger("post_execute")
    shell.events.trigger("post_run_cell", result)
    result.raise_error()
`,
    { globals },
  );
  process.exit(0);
}
await pyodide.runPythonAsync(
  `
import ast, linecache
namespace = {"__name__": "__main__"}
for number, cell in enumerate(CELLS, 1):
    name = f"<cell {number}>" if len(CELLS) > 1 else "<cell>"
    linecache.cache[name] = (len(cell), None, cell.splitlines(True), name)
    code = compile(cell, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)
    if result is not None:
        await result
`,
  { globals },
);
