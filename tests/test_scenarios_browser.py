"""The ten readers of the scenarios review (reviews/scenarios-2026-12.md), in a real browser.

Each arrives on the kernel-terminated guide, as a search or the banner's link brings them, and
answers only what they can see or check: each answer is picked by words of its label that
match their message or what the page's checks would show them. Each must reach the right
outcome; the clicks are counted, the first answer on the guide included. On a phone-sized
screen, the wizard's command boxes keep most of the width, with the copy button below.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from troubleshooter.loader import load_builtin

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
GUIDE = "howto/jupyter-kernel-terminated.html"
CONF = runpy.run_path(str(ROOT / "conf.py"))
PLATFORM = CONF["troubleshooter_platform"]
TREE = load_builtin("kernel-terminated", PLATFORM, CONF["troubleshooter_notes"])  # as the site

# user -> (the words of each answer they pick, in order; the outcome they must reach;
#          words its steps must hold for them)
# Most readers need five clicks at most; a route that must check more says how many here.
LONGER = {"5c the same, following the commands: the pod's restart reset the counters": 7}
SCENARIOS = {
    "1 CoCalc, SIGKILL, six notebooks open while grading": (
        ["names signal SIGKILL", "went up across the crash", "other kernels together"],
        "oom-idle-kernels",
        "close and halt",
    ),
    "2 JupyterLab on a laptop, 'appears to have died', a 6 GB CSV": (
        [
            "only says the kernel died",
            "no lines at all",
            "I can't tell",
            "only this notebook",
            "One cell takes memory",
        ],
        "oom-one-big-step",
        "chunksize",
    ),
    "3 VS Code on Windows, exit code 3221225477 after import torch": (
        ["gives an exit code", "(Windows)", "3221225477"],
        "native-crash",
        "DLL",
    ),
    "4 Colab, 'crashed after using all available RAM'": (
        ["says memory ran out", "only this notebook", "One cell takes memory"],
        "oom-one-big-step",
        "Colab",
    ),
    "5 JupyterHub on Kubernetes, pod OOMKilled, 'Kernel Restarting'": (
        ["OOMKilled", "only this notebook", "One cell takes memory"],
        "oom-one-big-step",
        "hub",
    ),
    "5b the same, from 'everything stopped at once'": (
        [
            "Every notebook and terminal",
            "stopped for memory",
            "only this notebook",
            "One cell takes memory",
        ],
        "oom-one-big-step",
        "hub",
    ),
    "5c the same, following the commands: the pod's restart reset the counters": (
        [
            "only says the kernel died",
            "no lines at all",
            "stayed the same",
            "perhaps while I was away",
            "stopped for memory",
            "only this notebook",
            "One cell takes memory",
        ],
        "oom-one-big-step",
        "hub",
    ),
    "6 Classic Notebook on Windows, 'OMP: Error #15 ... libiomp5md.dll'": (
        ["only says the kernel died", "OMP: Error #15"],
        "abi-openmp",
        "one source",
    ),
    "7 dies at start, 'No module named ipykernel_launcher'": (
        ["dies as soon as it starts", "No module named ipykernel_launcher"],
        "kernel-spec-broken",
        "ipykernel",
    ),
    "8 CoCalc, exit code 1 and an ImportError from /home/user/random.py": (
        ["gives an exit code", "1, or another number", "ImportError", "a file of yours"],
        "shadowed-module",
        "random.py",
    ),
    "9 setrecursionlimit(100000), SIGSEGV": (
        ["another signal", "SIGSEGV", "raises the recursion limit"],
        "stack-overflow",
        "loop",
    ),
    "10 Binder, back after 20 minutes, 'Disconnected'": (
        ["Disconnected", "launch the server again", "sat idle"],
        "server-stopped",
        "Binder",
    ),
}


BOXES = """selector => [...document.querySelectorAll(selector)].map(box => {
    const place = element => {
        const { top, bottom, width } = element.getBoundingClientRect();
        return { top, bottom, width };
    };
    return [place(box.querySelector("pre")), place(box.querySelector("button"))];
})"""


def _matching(labels: list[str], words: str) -> int:
    found = [index for index, label in enumerate(labels) if words.lower() in label.lower()]
    assert len(found) == 1, f"{words!r} fits {len(found)} of {labels}"
    return found[0]


@pytest.mark.parametrize("user", SCENARIOS)
def test_each_reader_reaches_the_right_outcome(page, server, user: str) -> None:
    answers, outcome_id, advice = SCENARIOS[user]
    page.goto(server + GUIDE, wait_until="load")
    first = page.locator(".ts-wizard .ts-answers a")
    index = _matching(first.all_inner_texts(), answers[0])
    first.nth(index).click()
    page.wait_for_selector(".ts-app")
    clicks = 1
    for words in answers[1:]:
        choices = page.locator(".ts-choices button")
        choices.nth(_matching(choices.all_inner_texts(), words)).click()
        clicks += 1
    outcome = TREE.nodes[outcome_id]
    heading = page.locator(".ts-step > :first-child").inner_text()
    assert heading == outcome.title.replace("`", ""), (user, heading)
    steps = " ".join(page.locator(".ts-step ol li").all_inner_texts())
    assert advice.lower() in steps.lower(), (user, advice)
    assert f"step={outcome_id}" in page.url
    assert clicks == len(answers) <= LONGER.get(user, 5)


@pytest.mark.parametrize("width", [360, 390])
def test_command_boxes_keep_their_width_on_a_phone(browser, server, width: int) -> None:
    """The review measured the command box at about 155 px of 390: the button now goes below."""
    context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{server}{GUIDE}?step=memory-limit", wait_until="load")
        phone.wait_for_selector(".ts-app .ts-command pre")
        # one read of all the boxes, so that a scroll in between cannot skew them
        boxes = phone.evaluate(BOXES, ".ts-app .ts-command")
        assert len(boxes) == 2  # the terminal form and the notebook-cell form
        # the guide's own code blocks: the copy button sits under the code, not over it
        blocks = phone.evaluate(BOXES, "article div.highlight:has(.copy-button)")
        assert len(blocks) > 5
        boxes += blocks
        for code, button in boxes:
            assert code["width"] >= 0.75 * width, (width, code)
            assert button["top"] >= code["bottom"] - 1, (width, code, button)  # below it
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    finally:
        context.close()


def test_back_to_top_leaves_the_trail_visible_on_a_phone(browser, server) -> None:
    """Furo's "Back to top" pill sat over the wizard's trail at 390 px (scenarios review)."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{server}{GUIDE}?step=kernel-count&path=sigkill.at-limit", wait_until="load")
        phone.wait_for_selector(".ts-app .ts-trail li")
        phone.evaluate("window.scrollTo({ top: document.body.scrollHeight, behavior: 'instant' })")
        phone.wait_for_timeout(400)
        # scroll back up until the trail sits just under the header, as after an answer
        phone.evaluate(TRAIL_UNDER_HEADER)
        phone.wait_for_timeout(400)
        pill = phone.locator(".back-to-top")
        assert pill.is_visible()  # Furo shows it while the reader scrolls up
        box = pill.bounding_box()
        trail = phone.locator(".ts-app .ts-trail").bounding_box()
        assert box is not None and trail is not None
        below = box["y"] >= trail["y"] + trail["height"]
        above = box["y"] + box["height"] <= trail["y"]
        assert below or above, (box, trail)
        assert box["y"] >= 0 and box["y"] + box["height"] <= 800  # still on the screen
    finally:
        context.close()


TRAIL_UNDER_HEADER = """() => {
    const trail = document.querySelector(".ts-app .ts-trail");
    const header = document.querySelector(".mobile-header");
    const room = header ? header.getBoundingClientRect().bottom : 0;
    const top = window.scrollY + trail.getBoundingClientRect().top - room - 4;
    window.scrollTo({ top, behavior: "instant" });
}"""
