// @ts-check
/**
 * The troubleshooter wizard: one question at a time, over the tree that the
 * page carries as <script type="application/json" class="ts-data">, or that
 * it fetches from data-src when the reader first answers or arrives through a
 * link with parameters (pages that must stay light show only the first question).
 *
 * The state is the list of answer ids taken from the start; the URL holds it as
 * ?step=NODE_ID&path=ID.ID, so browser Back/Forward and copied links work.
 * Deep links (?signal=, ?exit_code=, ?message=) follow the rules of
 * troubleshooter/signals.py and Tree.deep_link in troubleshooter/model.py;
 * tests/test_wizard_browser.py checks that both sides agree.
 *
 * No innerHTML: every element is made with createElement and filled with text.
 */
"use strict";

(() => {
  /**
   * @typedef {{id: string, label: string, target: string, signals?: string[],
   *   exit_codes?: [number, number][]}} Answer
   * @typedef {{kind: "question", text: string, check: string, command?: string,
   *   cell?: string, answers: Answer[]}} Question
   * @typedef {{kind: "outcome", title: string, cause: string, text: string, steps: string[],
   *   confirm: string, href: string, guide_title: string}} Outcome
   * @typedef {{id: string, title: string, start: string, causes: Record<string, string>,
   *   nodes: Record<string, Question | Outcome>}} TreeData
   * @typedef {{signal: string | null, exitCode: number | null}} Death
   */

  // --- troubleshooter/signals.py, rule for rule -----------------------------------------

  const SIGNALS = new Map([
    ["SIGHUP", 1], ["SIGINT", 2], ["SIGQUIT", 3], ["SIGILL", 4], ["SIGTRAP", 5],
    ["SIGABRT", 6], ["SIGBUS", 7], ["SIGFPE", 8], ["SIGKILL", 9], ["SIGUSR1", 10],
    ["SIGSEGV", 11], ["SIGUSR2", 12], ["SIGPIPE", 13], ["SIGALRM", 14], ["SIGTERM", 15],
    ["SIGXCPU", 24], ["SIGXFSZ", 25],
  ]);
  const SIGNAL_NAMES = new Map([...SIGNALS].map(([name, number]) => [number, name]));
  const ALIASES = new Map([["SIGIOT", "SIGABRT"], ["SIGCLD", "SIGCHLD"]]);
  const MAX_SIGNAL = 64;
  const MAX_TEXT = 2000;
  // Python's \s, \w and re.IGNORECASE on str differ from JavaScript's: spell them out.
  const SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  const WORD = "[\\p{L}\\p{N}_]";
  const [S, I] = ["[sS\\u017f]", "[iI\\u0130\\u0131]"];
  const UPPER_OR_DIGIT = "[A-Za-z0-9\\u0130\\u0131\\u017f\\u212a]";
  const SIGNAL_IN_MESSAGE = new RegExp(
    `(?<!${WORD})${S}${I}[gG][nN][aA][lL][:${SPACE.slice(1, -1)}]+` +
      `(${S}${I}[gG]${UPPER_OR_DIGIT}{2,10}|[0-9]{1,3})(?!${WORD})`,
    "u",
  );
  const EXIT_IN_MESSAGE = new RegExp(
    `(?<!${WORD})(?:[eE][xX]${I}[tT][eE][dD]|[eE][xX]${I}[tT](?:[eE][dD])?${SPACE}+` +
      `(?:[wW]${I}[tT][hH]${SPACE}+)?(?:[cC][oO][dD][eE]|${S}[tT][aA][tT][uU]${S}))` +
      `\\P{Nd}{0,20}?(-?[0-9]{1,4})(?!${WORD})`,
    "u",
  );
  const BARE_SIGNAL = new RegExp(`(?<!${WORD})(SIG[A-Z]{2,8})(?!${WORD})`, "u");
  const EDGE_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, "gu");

  /** Python's str.strip() then [:n], counted in code points. @param {string} text @param {number} n */
  const cut = (text, n) => Array.from(text.replace(EDGE_SPACE, "")).slice(0, n).join("");
  /** @param {string} text @param {number} n */
  const head = (text, n) => Array.from(text).slice(0, n).join("");

  /** @param {number} number @returns {string | null} */
  const signalName = (number) =>
    number > 0 && number <= MAX_SIGNAL ? SIGNAL_NAMES.get(number) ?? `SIG${number}` : null;

  /** @param {string | null} value @returns {string | null} */
  function parseSignal(value) {
    if (value === null) return null;
    const text = cut(value, 20).toUpperCase();
    if (!text) return null;
    if (/^-?[0-9]{1,3}$/.test(text)) {
      let number = Math.abs(Number(text));
      if (number > 128 && number <= 128 + MAX_SIGNAL) number -= 128;
      return signalName(number);
    }
    let name = text.startsWith("SIG") ? text : `SIG${text}`;
    name = ALIASES.get(name) ?? name;
    return SIGNALS.has(name) ? name : null;
  }

  /** @param {string | null} value @returns {Death} */
  function parseExitCode(value) {
    const text = value === null ? "" : cut(value, 20);
    if (!/^-?[0-9]{1,4}$/.test(text)) return { signal: null, exitCode: null };
    const code = Number(text) || 0;
    if (code < 0) return { signal: signalName(-code), exitCode: null };
    if (code > 128 && code <= 128 + MAX_SIGNAL) return { signal: signalName(code - 128), exitCode: code };
    return { signal: null, exitCode: code <= 255 ? code : null };
  }

  /** @param {string | null} value @returns {Death} */
  function parseMessage(value) {
    const text = head(value ?? "", MAX_TEXT);
    let match;
    if ((match = SIGNAL_IN_MESSAGE.exec(text))) return { signal: parseSignal(match[1]), exitCode: null };
    if ((match = EXIT_IN_MESSAGE.exec(text))) return parseExitCode(match[1]);
    if ((match = BARE_SIGNAL.exec(text.toUpperCase()))) return { signal: parseSignal(match[1]), exitCode: null };
    return { signal: null, exitCode: null };
  }

  // --- the tree ----------------------------------------------------------------------------

  /** Tree.deep_link: the answers a banner implies. @param {Map<string, Question | Outcome>} nodes
   * @param {string} start @param {Death} death @returns {string[]} */
  function deepLink(nodes, start, death) {
    if (death.signal === null && death.exitCode === null) return [];
    /** @param {Answer} answer */
    const tier = (answer) => {
      const code = death.exitCode;
      if (code !== null && (answer.exit_codes ?? []).some(([low, high]) => low <= code && code <= high)) return 1;
      if (death.signal !== null && (answer.signals ?? []).includes(death.signal)) return 2;
      if (death.signal !== null && (answer.signals ?? []).includes("*")) return 3;
      return 4;
    };
    const taken = [];
    let node = nodes.get(start);
    while (node?.kind === "question" && taken.length <= nodes.size) {
      let best = null;
      for (const answer of node.answers) if (tier(answer) < (best ? tier(best) : 4)) best = answer;
      if (!best) break;
      taken.push(best.id);
      node = nodes.get(best.target);
    }
    return taken;
  }

  /** @param {string} tag @param {Record<string, string>} attributes @param {...(Node | string)} children */
  function el(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    element.append(...children);
    return element;
  }

  /** Text with `code` spans, the only markup tree prose has. @param {string} tag @param {string} text */
  function prose(tag, text, attributes = {}) {
    const parts = text.split("`").map((part, index) => (index % 2 ? el("code", {}, part) : part));
    return el(tag, attributes, ...parts);
  }

  class Wizard {
    /** @param {HTMLElement} root @param {TreeData} tree @param {string[] | null} path where to
     * open, as a new history entry; null: where the address says */
    constructor(root, tree, path = null) {
      this.tree = tree;
      this.nodes = new Map(Object.entries(this.tree.nodes));
      this.level = Math.min(6, Math.max(2, Number(root.dataset.headingLevel) || 2));
      /** @type {string[]} */
      this.path = [];
      this.headingId = `${root.id}-heading`;

      this.trail = el("ol");
      this.nav = el("nav", { class: "ts-trail", "aria-label": "Your answers so far" }, this.trail);
      this.panel = el("div", { class: "ts-step" });
      this.back = this.button("Back", () => this.go(this.path.slice(0, -1)));
      this.restart = this.button("Start over", () => this.go([]));
      const copy = this.button("Copy summary", () => this.copy(this.summary()));
      this.live = el("p", { class: "ts-live", role: "status", "aria-live": "polite" });
      const controls = el("div", { class: "ts-controls" }, this.back, this.restart, copy);
      root.append(el("div", { class: "ts-app" }, this.nav, this.panel, controls, this.live));
      root.querySelector(".ts-tree")?.setAttribute("hidden", "");

      window.addEventListener("popstate", () => this.show(this.fromUrl(), true));
      if (path) {
        this.go(path);
        return;
      }
      const first = this.fromUrl();
      this.show(first, first.length > 0 || new URLSearchParams(location.search).has("step"));
    }

    /** @param {string | (Node | string)[]} content @param {() => void} action */
    button(content, action, className = "") {
      const button = el("button", { type: "button", class: className }, ...[content].flat());
      button.addEventListener("click", action);
      return button;
    }

    /** The answers along path and the node reached, or null when one does not fit.
     * @param {string[]} path */
    trace(path) {
      /** @type {[Question, Answer][]} */
      const steps = [];
      let id = this.tree.start;
      for (const answerId of path) {
        const node = this.nodes.get(id);
        const answer = node?.kind === "question" ? node.answers.find((a) => a.id === answerId) : undefined;
        if (node?.kind !== "question" || !answer) return null;
        steps.push([node, answer]);
        id = answer.target;
      }
      const node = this.nodes.get(id);
      return node ? { steps, node, id } : null;
    }

    /** The first path, depth first in file order, that reaches nodeId.
     * @param {string} nodeId @returns {string[] | null} */
    pathTo(nodeId, from = this.tree.start, path = /** @type {string[]} */ ([])) {
      if (from === nodeId) return path;
      const node = this.nodes.get(from);
      if (node?.kind !== "question" || path.length > this.nodes.size) return null;
      for (const answer of node.answers) {
        const found = this.pathTo(nodeId, answer.target, [...path, answer.id]);
        if (found) return found;
      }
      return null;
    }

    /** The state the URL asks for: ?step (with ?path), else ?signal, ?exit_code, ?message. */
    fromUrl() {
      const query = new URLSearchParams(location.search);
      const step = query.get("step");
      if (step !== null && this.nodes.has(step)) {
        const given = (query.get("path") ?? "").split(".").filter(Boolean);
        const traced = this.trace(given);
        return traced?.id === step ? given : this.pathTo(step) ?? [];
      }
      const deaths = [
        { signal: parseSignal(query.get("signal")), exitCode: null },
        parseExitCode(query.get("exit_code")),
        parseMessage(query.get("message")),
      ];
      for (const death of deaths) {
        const path = deepLink(this.nodes, this.tree.start, death);
        if (path.length) return path;
      }
      return [];
    }

    /** Go to a new state as a new history entry. @param {string[]} path */
    go(path) {
      const url = new URL(location.href);
      url.search = "";
      url.hash = "";
      const traced = this.trace(path);
      if (traced && path.length) {
        url.searchParams.set("step", traced.id);
        url.searchParams.set("path", path.join("."));
      }
      history.pushState(null, "", url.href);
      this.show(path, true);
    }

    /** @param {string[]} path @param {boolean} focus */
    show(path, focus) {
      const traced = this.trace(path) ?? this.trace([]);
      if (!traced) return;
      this.path = traced.steps.map(([, answer]) => answer.id);
      this.trail.replaceChildren(
        ...traced.steps.map(([question, answer], index) =>
          el("li", {}, this.button([prose("span", question.text), " ", prose("b", answer.label)], () =>
            this.go(this.path.slice(0, index)))),
        ),
      );
      this.nav.hidden = this.back.hidden = this.restart.hidden = !this.path.length;
      const { node } = traced;
      const heading = prose(`h${this.level}`, node.kind === "question" ? node.text : node.title, {
        id: this.headingId,
        tabindex: "-1",
      });
      this.panel.replaceChildren(heading, ...(node.kind === "question" ? this.question(node) : this.outcome(node)));
      if (!focus) return;
      this.say(`${node.kind === "question" ? "Question" : "Outcome"}: ${heading.textContent}`);
      heading.focus();
    }

    /** @param {Question} node */
    question(node) {
      const parts = [prose("p", node.check)];
      /** @type {[string | undefined, string, string][]} */
      const forms = [[node.command, "In a terminal (Linux):", "Copy command"],
        [node.cell, "In a notebook cell (any system):", "Copy cell"]];
      for (const [code, where, copy] of forms) {
        if (!code) continue;
        if (node.command && node.cell) parts.push(el("p", { class: "ts-form" }, where));
        parts.push(el("div", { class: "ts-command" }, el("pre", {}, el("code", {}, code)),
          this.button(copy, () => this.copy(code))));
      }
      const choices = node.answers.map((answer) =>
        this.button([prose("span", answer.label)], () => this.go([...this.path, answer.id]), "ts-choice"),
      );
      parts.push(el("div", { class: "ts-choices", role: "group", "aria-labelledby": this.headingId }, ...choices));
      return parts;
    }

    /** @param {Outcome} node */
    outcome(node) {
      const sub = `h${Math.min(6, this.level + 1)}`;
      const parts = [
        el("p", { class: "ts-cause" }, `Cause: ${this.tree.causes[node.cause] ?? node.cause}`),
        prose("p", node.text),
        el(sub, {}, "How to fix it"),
        el("ol", {}, ...node.steps.map((step) => prose("li", step))),
        el(sub, {}, "How to tell it worked"),
        prose("p", node.confirm),
      ];
      if (node.href) parts.push(el("p", {}, el("a", { href: node.href }, `Read more: ${node.guide_title}`)));
      return parts;
    }

    /** The path and the outcome as plain text, for a support request. */
    summary() {
      const traced = this.trace(this.path);
      if (!traced) return "";
      const lines = [this.tree.title, location.href, ""];
      for (const [question, answer] of traced.steps) lines.push(`${question.text} → ${answer.label}`);
      const { node } = traced;
      if (node.kind === "question") {
        lines.push("", `Open question: ${node.text}`);
      } else {
        lines.push("", `Outcome: ${node.title} (${this.tree.causes[node.cause] ?? node.cause})`, node.text, "");
        lines.push("How to fix it:", ...node.steps.map((step, index) => `${index + 1}. ${step}`), "");
        lines.push(`How to tell it worked: ${node.confirm}`);
        if (node.href) lines.push(`More: ${new URL(node.href, location.href).href}`);
      }
      return lines.join("\n");
    }

    /** @param {string} text */
    async copy(text) {
      let copied = false;
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch {
        const active = document.activeElement;
        const area = document.createElement("textarea");
        area.className = "ts-offscreen";
        area.readOnly = true;
        area.setAttribute("aria-hidden", "true");
        area.value = text;
        document.body.append(area);
        area.select();
        try {
          copied = document.execCommand("copy");
        } catch {
          copied = false;
        }
        area.remove();
        if (active instanceof HTMLElement) active.focus();
      }
      this.say(copied ? "Copied" : "Could not copy: your browser did not allow it");
    }

    /** Announce through the live region, even when the text repeats. @param {string} text */
    say(text) {
      this.live.textContent = this.live.textContent === text ? `${text}\u00a0` : text;
    }
  }

  const PARAMETERS = ["step", "path", "signal", "exit_code", "message"];

  /** Start the wizard from data fetched from root's data-src: at once when the address
   * has parameters, otherwise when the reader takes one of the first question's answers.
   * @param {HTMLElement} root @param {string} src */
  function startLater(root, src) {
    let started = false;
    /** @param {string[] | null} path @param {string} fallback where to go if loading fails */
    const start = (path, fallback) => {
      started = true;
      fetch(src)
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((tree) => new Wizard(root, tree, path))
        .catch(() => {
          if (fallback) location.assign(fallback);
        });
    };
    const query = new URLSearchParams(location.search);
    if (PARAMETERS.some((name) => query.has(name))) {
      start(null, "");
      return;
    }
    root.querySelector(".ts-tree")?.addEventListener("click", (event) => {
      const link = event.target instanceof Element ? event.target.closest("a[data-answer]") : null;
      if (!(link instanceof HTMLAnchorElement) || !link.dataset.answer) return;
      event.preventDefault();
      if (started) return;
      start([link.dataset.answer], link.href);
    });
  }

  for (const root of document.querySelectorAll(".ts-wizard")) {
    if (!(root instanceof HTMLElement)) continue;
    const script = root.querySelector("script.ts-data");
    if (script) new Wizard(root, JSON.parse(script.textContent ?? ""));
    else if (root.dataset.src) startLater(root, root.dataset.src);
  }
})();
