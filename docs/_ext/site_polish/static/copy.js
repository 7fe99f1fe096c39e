// @ts-check
/* A copy button on every code block. Where a block shows shell or Python
   prompts ("$ ", ">>> ", "... "), only the prompted lines are copied, without
   their prompts, so pasted output never runs as a command. */
"use strict";
(() => {
  const PROMPT = /^(\$ |>>> |\.\.\. )/;

  /** @param {Element} block @returns {string} */
  function commandsOf(block) {
    const pre = block.querySelector("pre");
    const lines = (pre instanceof HTMLElement ? pre.innerText : "").replace(/\n+$/, "").split("\n");
    const prompted = lines.filter((line) => PROMPT.test(line));
    return (prompted.length ? prompted.map((line) => line.replace(PROMPT, "")) : lines).join("\n");
  }

  /** @param {string} text */
  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "copy-scratch";
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  }

  const status = document.createElement("div");
  status.className = "copy-status";
  status.setAttribute("role", "status");
  document.body.append(status);

  for (const block of document.querySelectorAll("div.highlight")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy this code");
    button.addEventListener("click", async () => {
      await copy(commandsOf(block));
      button.textContent = "Copied";
      status.textContent = "Code copied to the clipboard";
      setTimeout(() => {
        button.textContent = "Copy";
        status.textContent = "";
      }, 2000);
    });
    block.append(button);
  }
})();
