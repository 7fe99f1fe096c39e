// @ts-check
/* JupyterLite embeds (lite/embed.py writes them): a button and a status line each. Nothing of
   JupyterLite loads until the reader shows an intent to use one: pointing at its button,
   focusing it or pressing it. Intent starts the app in a frame kept out of sight; the press
   shows the frame, where the demo's code has been running meanwhile. */
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
  /** The one frame started on intent and not yet shown; another intent replaces it. */
  /** @type {{ frame: HTMLIFrameElement, drop: () => void } | null} */
  let pending = null;

  function darkTheme() {
    const chosen = document.body.dataset.theme;
    if (chosen === "dark") return true;
    if (chosen === "light") return false;
    return window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  /** The app's address: the embed's own, with the page's parameters it asks for. @param {HTMLElement} run */
  function appUrl(run) {
    const url = new URL(run.dataset.liteSrc || "", document.baseURI);
    const wanted = run.dataset.liteSearchParams || "false";
    const page = new URLSearchParams(window.location.search);
    const names =
      wanted === "true" ? [...page.keys()] : wanted === "false" ? [] : wanted.match(/[^'",[\]\s]+/g) || [];
    for (const name of names) {
      const value = page.get(name);
      if (value !== null) url.searchParams.append(name, value);
    }
    if (!url.searchParams.has("theme") && darkTheme()) url.searchParams.set("theme", "JupyterLab Dark");
    return url.href;
  }

  /**
   * What to tell the reader about a REPL frame: set once its last cell (the demo's) shows output.
   * @param {HTMLIFrameElement} frame @param {(text: string) => void} report
   */
  function watch(frame, report) {
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
  }

  /** @param {HTMLElement} run */
  function setUp(run) {
    const button = run.querySelector("button");
    const status = run.querySelector(".memory-demo-status");
    if (!button || !status) return;
    const isRepl = (run.dataset.liteSrc || "").includes("repl/");
    /** @type {HTMLIFrameElement | null} */
    let frame = null;
    let shown = false;
    /** @type {string} */
    let outcome = "";

    /** @param {string} text */
    function report(text) {
      outcome = text;
      if (shown) status.textContent = text;
    }

    function start() {
      if (frame) return;
      if (pending) pending.drop();
      const made = document.createElement("iframe");
      made.className = "memory-demo-frame";
      made.title = run.dataset.liteTitle || "JupyterLite";
      Object.assign(made.style, FRAME_STYLE, AWAY);
      if (run.dataset.liteHeight) made.style.height = run.dataset.liteHeight;
      made.setAttribute("aria-hidden", "true");
      made.inert = true;
      made.src = appUrl(run);
      outcome = "";
      if (isRepl) watch(made, report);
      else made.addEventListener("load", () => report("The notebook is open in the frame below."));
      run.after(made);
      frame = made;
      pending = {
        frame: made,
        drop: () => {
          made.remove();
          if (frame === made) frame = null;
        },
      };
    }

    function show() {
      if (shown && frame) {
        frame.remove(); // a second press starts afresh
        frame = null;
        shown = false;
      }
      start();
      if (!frame) return;
      if (pending && pending.frame === frame) pending = null;
      for (const key of Object.keys(AWAY)) frame.style.removeProperty(key);
      frame.removeAttribute("aria-hidden");
      frame.inert = false;
      shown = true;
      status.textContent =
        outcome || (isRepl ? "Starting Python in your browser; the first start takes a few seconds." : "Opening the notebook.");
      button.textContent = isRepl ? "Start this demo again" : "Open the notebook again";
    }

    button.addEventListener("pointerenter", start);
    button.addEventListener("focus", start);
    button.addEventListener("click", show);
    button.hidden = false;
  }

  for (const run of document.querySelectorAll(".memory-demo-run")) {
    if (run instanceof HTMLElement) setUp(run);
  }
})();
