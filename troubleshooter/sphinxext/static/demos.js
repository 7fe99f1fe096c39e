// @ts-check
/* JupyterLite embeds (lite/embed.py writes them): a button and a status line each. Nothing of
   JupyterLite loads until the reader shows an intent to use one: pointing at its button or
   focusing it. Intent starts the app in a frame kept out of sight, and fetches the site's
   Pyodide meanwhile so that the kernel finds it in the browser's cache; pressing the button
   shows the frame, where the demo's code has been running. Once shown, a new intent prepares
   a fresh start the same way, and the next press swaps it in. */
"use strict";
(() => {
  const GIVE_UP_MS = 180_000;
  const CELLS = ".jp-CodeConsole-content .jp-CodeCell";
  const FRAME_STYLE = {
    display: "block",
    width: "100%",
    height: "30rem",
    marginTop: "0.75rem",
    border: "1px solid var(--color-background-border, #ccc)",
    borderRadius: "0.25rem",
  };
  // Out of sight but laid out at its real size, so the app inside measures itself right.
  const AWAY = { position: "fixed", left: "-200vw", top: "0" };
  /** Pyodide folders already fetched into the browser's cache. */
  const warmed = new Set();
  /** The one frame started on intent and not yet shown; a new intent elsewhere replaces it. */
  /** @type {{ frame: HTMLIFrameElement, drop: () => void } | null} */
  let pending = null;

  const darkTheme = () => {
    const chosen = document.body.dataset.theme;
    if (chosen === "dark") return true;
    if (chosen === "light") return false;
    return window.matchMedia("(prefers-color-scheme: dark)").matches;
  };

  /**
   * The app's address: the embed's own, with the page's parameters it asks for.
   * @param {HTMLElement} run
   */
  const appUrl = (run) => {
    const url = new URL(run.dataset.liteSrc || "", document.baseURI);
    const wanted = run.dataset.liteSearchParams || "false";
    const page = new URLSearchParams(window.location.search);
    const names =
      wanted === "true"
        ? [...page.keys()]
        : wanted === "false"
          ? []
          : wanted.match(/[^'",[\]\s]+/g) || [];
    for (const name of names) {
      const value = page.get(name);
      if (value !== null) url.searchParams.append(name, value);
    }
    if (!url.searchParams.has("theme") && darkTheme()) {
      url.searchParams.set("theme", "JupyterLab Dark");
    }
    return url.href;
  };

  /** How Pyodide's lock spells a package name. @param {string} name */
  const lockName = (name) => name.toLowerCase().replace(/[-_.]+/g, "-");

  /**
   * The lock's wheels for `names` and everything they depend on: what the kernel loads at start.
   * @param {{ packages: Record<string, { file_name: string, depends: string[] }> }} lock
   * @param {string[]} names
   */
  const startWheels = (lock, names) => {
    const seen = new Set();
    const pending = names.map(lockName);
    while (pending.length) {
      const name = /** @type {string} */ (pending.pop());
      const entry = lock.packages[name];
      if (seen.has(name) || !entry) continue;
      seen.add(name);
      pending.push(...entry.depends.map(lockName));
    }
    return [...seen].map((name) => String(lock.packages[name].file_name));
  };

  /**
   * Fetch Pyodide and the packages the kernel loads at start (`packages`, with what they
   * depend on), so the kernel's worker, which asks for them only once the app has started,
   * finds them in the browser's cache. The same files, fetched earlier: no byte more.
   * @param {string | undefined} folder @param {string} packages
   */
  const warm = async (folder, packages) => {
    if (!folder || warmed.has(folder)) return;
    warmed.add(folder);
    const root = new URL(folder, document.baseURI);
    try {
      const lock = await (await fetch(new URL("pyodide-lock.json", root))).json();
      const wheels = startWheels(lock, packages.split(" ").filter(Boolean));
      const files = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"];
      await Promise.all(
        [...files, ...wheels].map(async (name) => (await fetch(new URL(name, root))).blob()),
      );
    } catch {
      // The kernel fetches what is missing itself.
    }
  };

  /**
   * What to tell the reader about a REPL frame: set once its last cell (the demo's) shows output.
   * @param {HTMLIFrameElement} frame @param {(text: string) => void} report
   */
  const watch = (frame, report) => {
    const started = Date.now();
    const timer = window.setInterval(() => {
      if (!frame.isConnected) {
        window.clearInterval(timer);
        return;
      }
      const doc = frame.contentDocument;
      const cells = doc ? doc.querySelectorAll(CELLS) : [];
      const last = cells[cells.length - 1];
      if (last && last.querySelector(".jp-OutputArea-output")) {
        window.clearInterval(timer);
        const failed = last.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]');
        report(
          failed
            ? "The demo stopped with an error, shown in the frame below."
            : "The demo ran; its output is in the frame below. Edit the code there and " +
                "press Shift+Enter to run it again.",
        );
      } else if (Date.now() - started > GIVE_UP_MS) {
        window.clearInterval(timer);
        report("Python has not answered in three minutes. Reload the page to try again.");
      }
    }, 100);
  };

  /** @param {HTMLElement} run */
  const setUp = (run) => {
    const button = run.querySelector("button");
    const status = run.querySelector(".memory-demo-status");
    if (!button || !status) return;
    const isRepl = (run.dataset.liteSrc || "").includes("repl/");
    /** The frame the reader sees, if any. @type {HTMLIFrameElement | null} */
    let shown = null;
    /** A frame started on intent, not yet shown. @type {HTMLIFrameElement | null} */
    let next = null;
    /** What the frame that will be shown has to say. */
    let outcome = "";

    const start = () => {
      if (next) return;
      if (pending) pending.drop();
      const frame = document.createElement("iframe");
      frame.className = "memory-demo-frame";
      frame.title = run.dataset.liteTitle || "JupyterLite";
      Object.assign(frame.style, FRAME_STYLE, AWAY);
      if (run.dataset.liteHeight) frame.style.height = run.dataset.liteHeight;
      frame.setAttribute("aria-hidden", "true");
      frame.inert = true;
      /** @param {string} text */
      const report = (text) => {
        if (frame !== shown) {
          if (frame === next) outcome = text;
          return;
        }
        status.textContent = text;
      };
      outcome = "";
      warm(run.dataset.litePyodide, run.dataset.litePackages || "");
      frame.src = appUrl(run);
      if (isRepl) watch(frame, report);
      else frame.addEventListener("load", () => report("The notebook is open in the frame below."));
      (shown || run).after(frame);
      next = frame;
      pending = {
        frame,
        drop: () => {
          frame.remove();
          if (next === frame) next = null;
        },
      };
    };

    const show = () => {
      start();
      const frame = next;
      if (!frame) return;
      if (pending && pending.frame === frame) pending = null;
      next = null;
      if (shown) shown.remove(); // a second press starts afresh
      shown = frame;
      for (const key of Object.keys(AWAY)) frame.style.removeProperty(key);
      frame.removeAttribute("aria-hidden");
      frame.inert = false;
      status.textContent =
        outcome ||
        (isRepl
          ? "Starting Python in your browser; the first start takes a few seconds."
          : "Opening the notebook.");
      button.textContent = isRepl ? "Start this demo again" : "Open the notebook again";
    };

    button.addEventListener("pointerenter", start);
    button.addEventListener("focus", start);
    button.addEventListener("click", show);
    button.hidden = false;
  };

  for (const run of document.querySelectorAll(".memory-demo-run")) {
    if (run instanceof HTMLElement) setUp(run);
  }
})();
