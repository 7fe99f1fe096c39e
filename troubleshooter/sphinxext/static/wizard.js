// @ts-check
/**
 * The troubleshooter wizard: one question at a time, over the tree that the
 * page carries as <script type="application/json" class="ts-data">, or that
 * it fetches from data-src when the reader first answers or arrives through a
 * link with parameters (pages that must stay light show only the first question).
 *
 * The state is the list of answer ids taken from the start; the URL holds it as
 * ?step=NODE_ID&path=ID.ID, so browser Back/Forward and copied links work.
 * Deep links (?signal=, ?exit_code=, ?message=) and the paste box follow the rules of
 * troubleshooter/signals.py, troubleshooter/messages.py and Tree.deep_link: the
 * patterns, the signal numbers and the limits come from Python in the tree's JSON
 * ("reader"); tests/test_wizard_browser.py and tests/test_messages_browser.py check
 * that both sides agree. Nothing pasted leaves the page.
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
   * @typedef {{id: string, source: string, flags: string, strength: string, means: string,
   *   front_end?: string, signal?: string, capture?: string, cause?: string, step?: string,
   *   literals?: string[], fallback?: boolean}} SignatureData
   * @typedef {SignatureData & {regex: RegExp}} CompiledSignature
   * @typedef {{limit: number, message_limit: number, max_lines: number, shown: number,
   *   astral: string, line_break: string, front_ends: Record<string, string>,
   *   signals: {names: Record<string, number>, aliases: Record<string, string>, max: number},
   *   signatures: SignatureData[]}} ReaderData
   * @typedef {{id: string, title: string, start: string, causes: Record<string, string>,
   *   nodes: Record<string, Question | Outcome>, reader: ReaderData}} TreeData
   * @typedef {{signal: string | null, exitCode: number | null}} Death
   * @typedef {{line: number, text: string, id: string, means: string}} Recognised
   * @typedef {{death: Death, frontEnd: string | null, lines: Recognised[], step: string | null}} Reading
   */

  // --- reading a message: troubleshooter/messages.py's rules over the data Python compiled --

  /** @type {Death} */
  const NO_DEATH = { signal: null, exitCode: null };
  const ASCII_SPACE = " \t\n\r\f\v";

  /** Python's str.strip(" \t\n\r\f\v"). @param {string} text */
  function strip(text, characters = ASCII_SPACE) {
    let start = 0;
    let end = text.length;
    while (start < end && characters.includes(text[start])) start += 1;
    while (end > start && characters.includes(text[end - 1])) end -= 1;
    return text.slice(start, end);
  }

  /** The number of the line holding position `at`. @param {number[]} starts (each line's
   * start, then one past the end) @param {number} at */
  function lineOf(starts, at) {
    let low = 0;
    let high = starts.length - 1;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (starts[middle] <= at) low = middle;
      else high = middle;
    }
    return low;
  }

  /** Applies the compiled signatures (ReaderData) exactly as troubleshooter/messages.py does. */
  class Reader {
    /** @param {ReaderData} data */
    constructor(data) {
      this.data = data;
      this.names = new Map(Object.entries(data.signals.names));
      this.numbers = new Map([...this.names].map(([name, number]) => [number, name]));
      this.astral = new RegExp(data.astral, "g");
      this.lineBreak = new RegExp(data.line_break, "g");
      this.entries = data.signatures.map((entry) => ({ ...entry, regex: new RegExp(entry.source, entry.flags) }));
    }

    /** signals.parse_signal. @param {string | null} value @returns {string | null} */
    parseSignal(value) {
      if (value === null) return null;
      const text = strip(value).slice(0, 20).toUpperCase();
      if (!text) return null;
      if (/^-?[0-9]{1,3}$/.test(text)) {
        let number = Math.abs(Number(text));
        if (number > 128 && number <= 128 + this.data.signals.max) number -= 128;
        return this.signalName(number);
      }
      let name = text.startsWith("SIG") ? text : `SIG${text}`;
      name = this.data.signals.aliases[name] ?? name;
      return this.names.has(name) ? name : null;
    }

    /** signals.parse_exit_code. @param {string | null} value @returns {Death} */
    parseExitCode(value) {
      const text = value === null ? "" : strip(value).slice(0, 20);
      if (!/^-?[0-9]{1,4}$/.test(text)) return NO_DEATH;
      const code = Number(text) || 0;
      const max = this.data.signals.max;
      if (code < 0) return { signal: this.signalName(-code), exitCode: null };
      if (code > 128 && code <= 128 + max) return { signal: this.signalName(code - 128), exitCode: code };
      return { signal: null, exitCode: code <= 255 ? code : null };
    }

    /** @param {number} number @returns {string | null} */
    signalName(number) {
      return number > 0 && number <= this.data.signals.max ? this.numbers.get(number) ?? `SIG${number}` : null;
    }

    /** messages.prepare. @param {string} text */
    prepare(text, limit = this.data.limit) {
      return text.slice(0, 2 * limit).replace(this.astral, "\ufffd").slice(0, limit).replace(this.lineBreak, "\n");
    }

    /** messages.read: the death, the front end, the recognised lines and the step.
     * @param {string} text @returns {Reading} */
    read(text, limit = this.data.limit) {
      const prepared = this.prepare(text, limit);
      const lines = prepared.split("\n");
      const lowered = prepared.toLowerCase(); // holds an (ASCII) literal wherever Python's does
      const starts = [0];
      for (let at = prepared.indexOf("\n"); at !== -1; at = prepared.indexOf("\n", at + 1)) starts.push(at + 1);
      starts.push(prepared.length + 1);
      /** @type {[number, number, Recognised][]} */
      const found = [];
      let death = NO_DEATH;
      /** @type {string | null} */
      let frontEnd = null;
      /** @type {string | null} */
      let proving = null;
      /** @type {string | null} */
      let suggesting = null;
      this.entries.forEach((entry, rank) => {
        if (entry.literals && !entry.literals.some((literal) => lowered.includes(literal))) return;
        // One pass of the regex over the whole text (no match crosses a line, so this finds
        // what Python's run over the lines holding a literal finds); a line counts once.
        /** @type {number[]} */
        const matched = [];
        const regex = entry.regex;
        regex.lastIndex = 0;
        for (let match = regex.exec(prepared); match; match = regex.exec(prepared)) {
          const candidate = this.death(entry, match);
          if (entry.capture && candidate === NO_DEATH) continue;
          if (death === NO_DEATH) death = candidate;
          const number = lineOf(starts, match.index);
          matched.push(number);
          if (matched.length >= this.data.max_lines) break;
          regex.lastIndex = starts[number + 1];
        }
        if (!matched.length) return;
        frontEnd = frontEnd ?? entry.front_end ?? null;
        if (entry.step && entry.strength === "proves") proving = proving ?? entry.step;
        else if (entry.step) suggesting = suggesting ?? entry.step;
        for (const number of matched) {
          const shown = strip(lines[number] ?? "").slice(0, this.data.shown);
          found.push([number, rank, { line: number + 1, text: shown, id: entry.id, means: entry.means }]);
        }
      });
      const specific = new Set(found.filter(([, rank]) => !this.entries[rank]?.fallback).map(([number]) => number));
      const kept = found.filter(([number, rank]) => !this.entries[rank]?.fallback || !specific.has(number));
      kept.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      return { death, frontEnd, lines: kept.map(([, , recognised]) => recognised), step: proving ?? suggesting };
    }

    /** messages._death. @param {CompiledSignature} entry @param {RegExpExecArray} match @returns {Death} */
    death(entry, match) {
      if (entry.signal) return { signal: entry.signal, exitCode: null };
      if (entry.capture === "signal") {
        const signal = this.parseSignal(match[1] ?? null);
        return signal ? { signal, exitCode: null } : NO_DEATH;
      }
      if (entry.capture === "exit_code") {
        const found = this.parseExitCode(match[1] ?? null);
        return found.signal === null && found.exitCode === null ? NO_DEATH : found;
      }
      return NO_DEATH;
    }
  }

  // --- the tree ----------------------------------------------------------------------------

  /** signals.answer_tier: 1, 2 or 3 when the answer's hints fit the death, else 4.
   * @param {Answer} answer @param {Death} death */
  function answerTier(answer, death) {
    const code = death.exitCode;
    if (code !== null && (answer.exit_codes ?? []).some(([low, high]) => low <= code && code <= high)) return 1;
    if (death.signal !== null && (answer.signals ?? []).includes(death.signal)) return 2;
    if (death.signal !== null && (answer.signals ?? []).includes("*")) return 3;
    return 4;
  }

  /** Tree.deep_link: the answers a banner implies. @param {Map<string, Question | Outcome>} nodes
   * @param {string} start @param {Death} death @returns {string[]} */
  function deepLink(nodes, start, death) {
    const taken = [];
    let node = nodes.get(start);
    while (node?.kind === "question" && taken.length <= nodes.size) {
      let best = null;
      for (const answer of node.answers) {
        if (answerTier(answer, death) < (best ? answerTier(best, death) : 4)) best = answer;
      }
      if (!best) break;
      taken.push(best.id);
      node = nodes.get(best.target);
    }
    return taken;
  }

  /** messages._shortest: breadth first, answers in file order; with a death, only answers
   * whose hints fit it (or that have none). @param {Map<string, Question | Outcome>} nodes
   * @param {string} start @param {string} goal @param {Death | null} death @returns {string[] | null} */
  function shortest(nodes, start, goal, death) {
    /** @type {[string, string[]][]} */
    const todo = [[start, []]];
    const seen = new Set([start]);
    for (let next = todo.shift(); next; next = todo.shift()) {
      const [current, path] = next;
      if (current === goal) return path;
      const node = nodes.get(current);
      if (node?.kind !== "question") continue;
      for (const answer of node.answers) {
        const hinted = (answer.signals ?? []).length > 0 || (answer.exit_codes ?? []).length > 0;
        if (death && hinted && answerTier(answer, death) === 4) continue;
        if (seen.has(answer.target)) continue;
        seen.add(answer.target);
        todo.push([answer.target, [...path, answer.id]]);
      }
    }
    return null;
  }

  /** messages.plan: the death's deep link, then the shortest fitting way on to the reading's
   * step; else the shortest fitting way from the start; else the shortest of all; else the
   * deep link alone. @param {Map<string, Question | Outcome>} nodes @param {string} start
   * @param {Reading} reading @returns {string[]} */
  function plan(nodes, start, reading) {
    const path = deepLink(nodes, start, reading.death);
    const step = reading.step;
    if (step === null || !nodes.has(step)) return path;
    let here = start;
    for (const id of path) {
      const node = nodes.get(here);
      here = (node?.kind === "question" && node.answers.find((a) => a.id === id)?.target) || here;
    }
    const below = shortest(nodes, here, step, reading.death);
    if (below) return [...path, ...below];
    return shortest(nodes, start, step, reading.death) ?? shortest(nodes, start, step, null) ?? path;
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

  /** The labelled box a message is pasted into; Ctrl+Enter (or the button) reads it.
   * @param {string} rootId @param {(text: string) => void} onRead */
  function pasteBox(rootId, onRead) {
    const id = `${rootId}-paste`;
    const area = el("textarea", { id, rows: "4", spellcheck: "false", autocomplete: "off", "aria-describedby": `${id}-hint` });
    if (!(area instanceof HTMLTextAreaElement)) throw new TypeError("textarea");
    const read = () => onRead(area.value);
    area.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      event.preventDefault();
      read();
    });
    const button = el("button", { type: "button" }, "Read the message");
    button.addEventListener("click", read);
    return el(
      "div",
      { class: "ts-paste-box" },
      el("label", { for: id }, "Paste the message and the lines under it"),
      area,
      el("p", { id: `${id}-hint`, class: "ts-hint" }, "Ctrl+Enter reads it too. It is read on this page and sent nowhere."),
      button,
    );
  }

  class Wizard {
    /** @param {HTMLElement} root @param {TreeData} tree @param {string[] | null} path where to
     * open, as a new history entry; null: where the address says
     * @param {string | null} pasted a message pasted before the tree had loaded */
    constructor(root, tree, path = null, pasted = null) {
      this.tree = tree;
      this.nodes = new Map(Object.entries(this.tree.nodes));
      this.reader = new Reader(tree.reader);
      /** @type {Reading | null} what the shown step was opened from, if a message */
      this.reading = null;
      this.level = Math.min(6, Math.max(2, Number(root.dataset.headingLevel) || 2));
      /** @type {string[]} */
      this.path = [];
      this.rootId = root.id;
      this.headingId = `${root.id}-heading`;

      this.trail = el("ol");
      this.nav = el("nav", { class: "ts-trail", "aria-label": "Your answers so far" }, this.trail);
      this.panel = el("div", { class: "ts-step" });
      this.back = this.button("Back", () => this.go(this.path.slice(0, -1)));
      this.restart = this.button("Start over", () => this.go([]));
      const copy = this.button("Copy summary", () => this.copy(this.summary()));
      this.live = el("p", { class: "ts-live", role: "status", "aria-live": "polite" });
      const controls = el("div", { class: "ts-controls" }, this.back, this.restart, copy);
      root.querySelector(".ts-paste-box")?.remove();
      root.append(el("div", { class: "ts-app" }, this.nav, this.panel, controls, this.live));
      root.querySelector(".ts-tree")?.setAttribute("hidden", "");

      window.addEventListener("popstate", () => this.arrive(this.fromUrl()));
      if (pasted !== null) {
        this.readPasted(pasted);
        return;
      }
      if (path) {
        this.go(path);
        return;
      }
      this.arrive(this.fromUrl());
    }

    /** Show where the address leads, and write that step into the address.
     * @param {string[]} path */
    arrive(path) {
      this.show(path, path.length > 0 || this.reading !== null || new URLSearchParams(location.search).has("step"));
      this.keepInAddress();
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

    /** The state the URL asks for: ?step (with ?path), else ?signal, ?exit_code, ?message.
     * A message also leaves what it was read as in this.reading, for the step to show. */
    fromUrl() {
      const query = new URLSearchParams(location.search);
      this.reading = null;
      const step = query.get("step");
      if (step !== null && this.nodes.has(step)) {
        const given = (query.get("path") ?? "").split(".").filter(Boolean);
        const traced = this.trace(given);
        return traced?.id === step ? given : this.pathTo(step) ?? [];
      }
      const reader = this.reader;
      const deaths = [
        { signal: reader.parseSignal(query.get("signal")), exitCode: null },
        reader.parseExitCode(query.get("exit_code")),
      ];
      for (const death of deaths) {
        const path = deepLink(this.nodes, this.tree.start, death);
        if (path.length) return path;
      }
      const message = query.get("message");
      if (message === null) return [];
      this.reading = reader.read(message, reader.data.message_limit);
      return this.readingPath(this.reading);
    }

    /** @param {Reading} reading @returns {string[]} */
    readingPath(reading) {
      return plan(this.nodes, this.tree.start, reading);
    }

    /** Read a pasted message and open the furthest step it justifies. @param {string} text */
    readPasted(text) {
      const started = performance.now();
      const reading = this.reader.read(text);
      performance.measure("troubleshooter: read message", { start: started }); // for the bench
      this.go(this.readingPath(reading), reading);
    }

    /** Go to a new state as a new history entry; a reading is shown on the step it opens.
     * @param {string[]} path @param {Reading | null} reading */
    go(path, reading = null) {
      const url = new URL(location.href);
      url.search = "";
      url.hash = "";
      const traced = this.trace(path);
      if (traced && path.length) {
        url.searchParams.set("step", traced.id);
        url.searchParams.set("path", path.join("."));
      }
      history.pushState(null, "", url.href);
      this.reading = reading;
      this.show(path, true);
    }

    /** Write the shown step into the address without a new history entry (links, pastes). */
    keepInAddress() {
      const traced = this.trace(this.path);
      if (!traced || !this.path.length) return;
      const url = new URL(location.href);
      url.search = "";
      url.searchParams.set("step", traced.id);
      url.searchParams.set("path", this.path.join("."));
      history.replaceState(null, "", url.href);
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
      const start = !this.path.length;
      const note = start || this.reading ? this.note(this.reading) : [];
      this.panel.replaceChildren(
        heading,
        ...note,
        ...(node.kind === "question" ? this.question(node, start) : this.outcome(node)),
      );
      if (!focus) return;
      const read = this.reading ? `${this.readSummary(this.reading)} ` : "";
      this.say(`${read}${node.kind === "question" ? "Question" : "Outcome"}: ${heading.textContent}`);
      heading.focus();
    }

    /** What a message was read as: the lines recognised and what each means, as text only.
     * The start always holds the (empty, hidden) paragraph, so an unread message adds none.
     * @param {Reading | null} reading @returns {HTMLElement[]} */
    note(reading) {
      const paragraph = el("p", { class: "ts-read" });
      paragraph.hidden = reading === null;
      if (!reading) return [paragraph];
      if (!reading.lines.length) {
        paragraph.append("No line of the message matched one the troubleshooter knows. Pick the answer below that fits best.");
        return [paragraph];
      }
      const name = reading.frontEnd ? this.reader.data.front_ends[reading.frontEnd] : null;
      const where = name ? ` (${name})` : "";
      paragraph.append(`Read from your message${where}:`);
      if (!this.path.length) {
        paragraph.append(" it names no signal, exit code or cause that leads further. Pick the answer below that fits best.");
      }
      const items = reading.lines.map((line) =>
        el("li", {}, el("span", { class: "ts-read-line" }, `Line ${line.line}: “${line.text}”`), ` ${line.means}`),
      );
      return [paragraph, el("ul", { class: "ts-read-lines" }, ...items)];
    }

    /** @param {Reading} reading */
    readSummary(reading) {
      const count = reading.lines.length;
      return count ? `Recognised ${count} line${count === 1 ? "" : "s"} of your message.` : "No line of your message was recognised.";
    }

    /** @param {Question} node @param {boolean} start whether this is the first step */
    question(node, start = false) {
      const parts = start ? [pasteBox(this.rootId, (text) => this.readPasted(text))] : [];
      parts.push(prose("p", node.check));
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
    /** @param {string[] | null} path @param {string} fallback where to go if loading fails
     * @param {string | null} pasted */
    const start = (path, fallback, pasted = null) => {
      started = true;
      fetch(src)
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((tree) => new Wizard(root, tree, path, pasted))
        .catch(() => {
          if (fallback) location.assign(fallback);
        });
    };
    const query = new URLSearchParams(location.search);
    if (PARAMETERS.some((name) => query.has(name))) {
      start(null, "");
      return;
    }
    root.querySelector(".ts-tree")?.before(pasteBox(root.id, (text) => started || start(null, "", text)));
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
