// @ts-check
/* Live demos (demos.py): a "Run this demo" button under each demo's code. Nothing of
   JupyterLite loads until the click; then a JupyterLite REPL opens in a frame, runs the
   code shown on the page, and the status line says what is happening. */
"use strict";
(() => {
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement)) return;
  // The site's copy of JupyterLite sits at lite/ beside _static/, where this file is.
  const REPL = new URL("../lite/repl/index.html", script.src);
  const GIVE_UP_MS = 180_000;

  /** @param {Element} status @param {string} text */
  function say(status, text) {
    status.textContent = text;
  }

  function darkTheme() {
    const chosen = document.body.dataset.theme;
    if (chosen === "dark") return true;
    if (chosen === "light") return false;
    return window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  /** @param {string} code @param {string} setup */
  function replUrl(code, setup) {
    const url = new URL(REPL);
    url.searchParams.set("kernel", "python");
    url.searchParams.set("toolbar", "1");
    url.searchParams.set("showBanner", "0");
    if (darkTheme()) url.searchParams.set("theme", "JupyterLab Dark");
    if (setup) url.searchParams.append("code", setup);
    url.searchParams.append("code", code);
    return url.href;
  }

  /**
   * Tell the reader when the demo's own cell (the last one) shows output.
   * @param {HTMLIFrameElement} frame @param {Element} status
   */
  function watch(frame, status) {
    const started = Date.now();
    const timer = window.setInterval(() => {
      const doc = frame.contentDocument;
      if (!frame.isConnected) {
        window.clearInterval(timer);
        return;
      }
      const cells = doc ? doc.querySelectorAll(".jp-CodeConsole-content .jp-CodeCell") : [];
      const last = cells[cells.length - 1];
      const outputs = last ? last.querySelectorAll(".jp-OutputArea-output") : [];
      if (outputs.length) {
        window.clearInterval(timer);
        const failed = last.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]');
        say(
          status,
          failed
            ? "The demo stopped with an error, shown in the frame below."
            : "The demo ran; its output is in the frame below. Edit the code there and " +
                "press Shift+Enter to run it again.",
        );
      } else if (Date.now() - started > GIVE_UP_MS) {
        window.clearInterval(timer);
        say(status, "Python has not answered in three minutes. Reload the page to try again.");
      }
    }, 250);
  }

  /** @param {HTMLElement} run */
  function setUp(run) {
    const demo = run.closest(".memory-demo");
    const button = run.querySelector("button");
    const status = run.querySelector(".memory-demo-status");
    const code = demo && demo.querySelector(".highlight-python pre");
    if (!demo || !button || !status || !code) return;
    const title = run.dataset.demoTitle || "demo";
    /** @type {HTMLIFrameElement | null} */
    let frame = null;

    button.addEventListener("click", () => {
      if (frame) frame.remove();
      frame = document.createElement("iframe");
      frame.className = "memory-demo-frame";
      frame.title = `Python in your browser: ${title}`;
      Object.assign(frame.style, {
        display: "block",
        width: "100%",
        height: "30rem",
        marginTop: "0.75rem",
        border: "1px solid var(--color-background-border, #ccc)",
        borderRadius: "0.25rem",
      });
      frame.src = replUrl(code.textContent || "", run.dataset.demoSetup || "");
      say(status, "Starting Python in your browser; the first start takes a few seconds.");
      frame.addEventListener("load", () => say(status, "Python is starting, then runs the demo."), {
        once: true,
      });
      run.after(frame);
      button.textContent = "Start this demo again";
      watch(frame, status);
    });
    button.hidden = false;
  }

  for (const run of document.querySelectorAll(".memory-demo-run")) {
    if (run instanceof HTMLElement) setUp(run);
  }
})();
