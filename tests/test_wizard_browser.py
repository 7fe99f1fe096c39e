"""The wizard in a real browser, on the real site built from docs/ with the shipped tree.

Every root-to-outcome path of the tree is clicked; every deep-link form for every
signal lands where the Python rule (``resolve_query`` over ``Tree.deep_link``)
says; hostile addresses open the start and inject nothing; keyboard, history,
copying and axe-core are checked as a reader would meet them. One browser tab is
shared per module to keep the run short.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest

from troubleshooter.causes import CAUSES
from troubleshooter.loader import load_builtin
from troubleshooter.model import Outcome, Question
from troubleshooter.signals import SIGNALS
from troubleshooter.sphinxext.deeplinks import resolve_query

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PAGE = "troubleshooter.html"
OUTSIDE = re.compile(r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost)[:/]|data:|blob:|about:)")
CONF = runpy.run_path(str(ROOT / "conf.py"))
PLATFORM = CONF["troubleshooter_platform"]
TREE = load_builtin("kernel-terminated", PLATFORM, CONF["troubleshooter_notes"])  # as the site
START = TREE.nodes[TREE.start]


def plain(text: str) -> str:
    """Tree prose as the page shows it: backticks become <code>, so they are not text."""
    return text.replace("`", "")


def title(node: Question | Outcome) -> str:
    return plain(node.text if isinstance(node, Question) else node.title)


def first_values(query: str) -> dict[str, str]:
    """The query as the wizard reads it: the first value of each parameter."""
    return {key: found[0] for key, found in parse_qs(query, keep_blank_values=True).items()}


class Tab:
    """A browser tab shared by the tests of this module, with what it logged."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.log: dict[str, list[str]] = {
            "external": [],
            "console": [],
            "errors": [],
            "dialogs": [],
        }

    def __getattr__(self, name: str):
        return getattr(self.page, name)


@pytest.fixture(scope="module")
def tab(browser, server):
    """One tab for the module, with the same guard and logs as conftest's ``page``."""
    context = browser.new_context()
    page = context.new_page()
    tab = Tab(page, server)
    log = tab.log

    def block(route):
        log["external"].append(route.request.url)
        route.abort()

    def on_dialog(dialog):
        log["dialogs"].append(dialog.message)
        dialog.dismiss()

    # Only requests that leave the machine are routed through Python (and refused):
    # routing every local request too would make each page load several times slower.
    page.route(OUTSIDE, block)
    page.on("console", lambda msg: msg.type == "error" and log["console"].append(msg.text))
    page.on("pageerror", lambda error: log["errors"].append(str(error)))
    page.on("dialog", on_dialog)
    yield tab
    context.close()


@pytest.fixture(autouse=True)
def clean_log(request):
    """Each test starts with empty logs and ends with no errors, dialogs or outside requests."""
    if "tab" not in request.fixturenames:
        yield
        return
    tab = request.getfixturevalue("tab")
    for entries in tab.log.values():
        entries.clear()
    yield
    assert tab.log == {"external": [], "console": [], "errors": [], "dialogs": []}


def open_page(tab, query: str = "", page: str = PAGE) -> None:
    tab.goto(f"{tab.base}{page}{'?' + query if query else ''}", wait_until="domcontentloaded")
    tab.wait_for_selector(".ts-app")


def visit(tab, query: str = "") -> None:
    """Move the open page to ``?query`` as browser Back/Forward would (no reload): the
    wizard reads the address again. Much faster than a page load on a busy machine."""
    tab.evaluate(
        "query => { history.pushState(null, '', '?' + query);"
        " dispatchEvent(new PopStateEvent('popstate')); }",
        query,
    )


def heading(tab):
    return tab.locator(".ts-step > :first-child")


SHOWN = """() => ({
    trail: [...document.querySelectorAll('.ts-trail li button')].map(b => b.innerText),
    heading: document.querySelector('.ts-step > :first-child').innerText,
    cause: document.querySelector('.ts-step .ts-cause')?.innerText ?? null,
    steps: [...document.querySelectorAll('.ts-step ol li')].map(li => li.innerText),
    url: location.href,
})"""


def state(tab) -> dict:
    """What the wizard shows, read in one round trip."""
    found = tab.evaluate(SHOWN)
    found["trail"] = [" ".join(item.split()) for item in found["trail"]]
    return found


def shown(tab) -> tuple[list[str], str]:
    """(the breadcrumb as "question answer" strings, the heading) as the reader sees them."""
    found = state(tab)
    return found["trail"], found["heading"]


def expected(path: list[str]) -> tuple[list[str], str]:
    taken, node = TREE.trace(path)
    trail = [" ".join(f"{plain(q.text)} {plain(a.label)}".split()) for q, a in taken]
    return trail, title(node)


# --- every path --------------------------------------------------------------------------


def test_every_path_by_clicking(tab):
    """Click every root-to-outcome path. From one path to the next, the breadcrumb goes back
    to the question where they part, as a reader trying the other answers would."""
    paths = TREE.paths()
    assert len(paths) > 100
    open_page(tab)
    previous: list[str] = []
    for path in paths:
        answers = path.answers
        shared = 0
        while shared < min(len(previous), len(answers)) and previous[shared] == answers[shared]:
            shared += 1
        if previous:
            tab.locator(".ts-trail li button").nth(shared).click()
        for step in path.choices[shared:]:
            question = TREE.nodes[step.question]
            index = [a.id for a in question.answers].index(step.answer)
            tab.locator(".ts-choices button").nth(index).click()
        found = state(tab)
        outcome = TREE.nodes[path.outcome]
        assert (found["trail"], found["heading"]) == expected(answers), answers
        assert found["cause"] == f"Cause: {CAUSES[outcome.cause].title}"
        assert found["steps"] == [plain(step) for step in outcome.steps]
        assert found["url"].endswith(f"?step={path.outcome}&path={'.'.join(answers)}")
        previous = answers


def test_outcome_links_to_its_guide_section(tab):
    open_page(tab)
    targets = set()
    for outcome in TREE.outcomes():
        visit(tab, f"step={outcome.id}")
        assert heading(tab).inner_text() == title(outcome)
        href = tab.locator(".ts-step a").get_attribute("href")
        page, anchor = href.split("#")
        targets.add((page, anchor))
    for page in sorted({page for page, _ in targets}):
        tab.goto(f"{tab.base}{page}", wait_until="domcontentloaded")
        for anchor in sorted(a for p, a in targets if p == page):
            assert tab.locator(f"[id='{anchor}']").count() == 1, f"{page}#{anchor}"


# --- deep links --------------------------------------------------------------------------


NAMED_SIGNALS = sorted(
    {name for q in TREE.questions() for a in q.answers for name in a.signals} - {"*"},
    key=SIGNALS.__getitem__,
)


def signal_queries(name: str) -> list[str]:
    """Every way a link can carry one signal."""
    number = SIGNALS[name]
    short = name.removeprefix("SIG")
    return [
        f"signal={name}",
        f"signal={short.lower()}",
        f"signal={number}",
        f"signal=-{number}",
        f"signal={128 + number}",
        f"exit_code={128 + number}",
        f"exit_code=-{number}",
        f"message={quote(f'Kernel last terminated by signal {name}.')}",
        f"message={quote(f'Kernel last terminated by signal {number}.')}",
    ]


EDGE_QUERIES = [
    # exit codes across the range, and banners in other words
    *(f"exit_code={code}" for code in (0, 1, 2, 3, 42, 127, 128, 129, 192, 193, 255, 256, -1)),
    "exit_code=-0",
    "exit_code=%20137%20",
    "exit_code=0137",
    "message=" + quote("Kernel last exited with code 1."),
    "message=" + quote("Kernel last exited with code 137."),
    "message=" + quote("Kernel last exited with code 0."),
    "message=" + quote("kernel EXITED with status -11"),
    "message=" + quote("The process exited, code=139 (SIGSEGV)"),
    "message=Kernel+last+terminated+by+signal+SIGSEGV.",
    "message=" + quote("Kernel terminated: signal: 9"),
    "message=" + quote("died with SIGBUS somewhere"),
    "message=" + quote("sigkill in lower case is not a bare signal"),
    "message=" + quote("Kernel last terminated by signal SIGNOPE. exited with code 1"),
    "message=" + quote("xsignal 9 is glued to a word"),
    "message=" + quote("signal\u00a09 after a no-break space"),
    "message=" + quote("signal\u20289 after a line separator"),
    "message=" + quote("signal\ufeff9 after a byte order mark"),
    "message=" + quote("exit\u001fcode 3 after a unit separator"),
    "message=" + quote("\u017fignal 9 with a long s"),
    "message=" + quote("s\u0131gnal \u017f\u0131gk\u0131ll in Turkish dotless i"),
    "message=" + quote("signal \u212a"),
    "message=" + quote("éSIGKILL glued to a letter"),
    "message=" + quote("SIGKILLé glued after"),
    "message=" + quote("٣signal 9 after an Arabic-Indic digit"),
    "message=" + quote("exited ٣ 1 with a digit between"),
    "message=" + quote("stra\u00dfe SIGSEGV"),
    "message=" + quote("x" * 1990 + " SIGKILL"),
    "message=" + quote("x" * 1995 + " SIGKILL"),
    "message=" + quote("\U0001f600" * 1995 + " SIGKILL"),
    "signal=" + quote("\u00a0SIGKILL\u00a0"),
    "signal=" + quote("\u001cSIGKILL"),
    "signal=" + quote("\ufeffSIGKILL"),
    "signal=" + quote("sigiot"),
    "signal=" + quote("sigcld"),
    "signal=" + quote("\u017figkill"),
    "signal=" + quote("SIG20"),
    "signal=64",
    "signal=65",
    "signal=192",
    "signal=193",
    "signal=0",
    "signal=" + quote(" 9 "),
    "signal=" + quote("         9"),
    "signal=+9",
    "step=which-signal",
    "step=which-signal&path=other-signal",
    "step=which-signal&path=sigkill",
    "step=which-signal&path=nonsense.ids",
    "step=native-crash&signal=SIGKILL",
    "step=nowhere&signal=SIGSEGV",
    "signal=SIGNOPE&exit_code=139",
    "exit_code=banana&message=" + quote("Kernel last terminated by signal SIGABRT."),
    "signal=SIGKILL&signal=SIGSEGV",
]


@pytest.mark.parametrize("name", NAMED_SIGNALS)
def test_each_deep_link_form_for_each_signal_of_the_tree(tab, name):
    """Opened as a fresh page, each form lands where the Python rule says, past the start,
    with the focus on the step's heading."""
    for query in signal_queries(name):
        open_page(tab, query)
        found = shown(tab)
        assert found == expected(resolve_query(TREE, first_values(query))), query
        assert found[0], query
        assert tab.evaluate("document.activeElement.id") == heading(tab).get_attribute("id")


def test_deep_links_agree_with_python(tab):
    """Every other signal in every form, and edge cases of the parser (Unicode spaces and
    case folding, word boundaries, length limits, precedence), give the step Python gives."""
    others = [name for name in SIGNALS if name not in NAMED_SIGNALS]
    queries = [query for name in others for query in signal_queries(name)] + EDGE_QUERIES
    open_page(tab)
    for query in queries:
        visit(tab, query)
        assert shown(tab) == expected(resolve_query(TREE, first_values(query))), query


def test_python_link_example_from_linking_page(tab):
    """The Python snippet on docs/linking.md builds a link that opens the right step."""
    text = (ROOT / "docs" / "linking.md").read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    namespace: dict = {}
    exec(code, namespace)
    for message in ("Kernel last terminated by signal SIGKILL.", "Kernel last exited with code 1."):
        link = namespace["troubleshooter_link"](message)
        local = link.replace("https://docs.example.org/howto/jupyter-kernel-terminated.html", PAGE)
        open_page(tab, local.split("?", 1)[1])
        assert shown(tab) == expected(resolve_query(TREE, {"message": message}))
    link = namespace["link_for_exit"](-11)
    open_page(tab, link.split("?", 1)[1])
    assert shown(tab) == expected(resolve_query(TREE, {"exit_code": "-11"}))


def test_causes_map_opens_each_cause(tab, site):
    """troubleshooter/causes.json: every cause's wizard address opens its first outcome, and
    its guide address names a section that exists."""
    import json

    data = json.loads((site.html / "troubleshooter" / "causes.json").read_text("utf-8"))
    assert data["format"] == 1 and data["tree"] == TREE.id
    site_url = runpy.run_path(str(ROOT / "conf.py"))["html_baseurl"]
    assert set(data["causes"]) == set(CAUSES)
    for cause_id, entry in data["causes"].items():
        outcomes = [o.id for o in TREE.outcomes() if o.cause == cause_id]
        assert entry["outcomes"] == outcomes
        tab.goto(entry["wizard"].replace(site_url, tab.base), wait_until="domcontentloaded")
        expected_title = title(TREE.nodes[outcomes[0]]) if outcomes else title(START)
        assert heading(tab).inner_text() == expected_title, cause_id
        page, anchor = entry["guide"].removeprefix(site_url).split("#")
        html = (site.html / page).read_text("utf-8")
        assert f'id="{anchor}"' in html, entry["guide"]


def test_deep_links_on_the_guide_page(tab, site):
    """The error banner links to the guide: once the guide shows the wizard, its deep links
    work there as on the troubleshooter page."""
    guide = "howto/jupyter-kernel-terminated.html"
    if 'class="ts-wizard"' not in (site.html / guide).read_text("utf-8"):
        pytest.skip(f"{guide} does not show the wizard (yet)")
    for name in NAMED_SIGNALS:
        query = f"signal={name}"
        open_page(tab, query, page=guide)
        assert shown(tab) == expected(resolve_query(TREE, first_values(query))), query
    choice = tab.locator(".ts-choices button").first
    if choice.count():
        choice.click()
        assert "step=" in tab.url


def test_guide_fetches_the_tree_only_when_the_reader_answers(page, server):
    """The guide stays light: it shows the first question and loads the rest of the tree
    when the reader takes an answer, here by keyboard, then carries on as the wizard."""
    guide = "howto/jupyter-kernel-terminated.html"
    data_requests = []
    page.on("request", lambda r: "/troubleshooter/data/" in r.url and data_requests.append(r.url))
    page.goto(server + guide, wait_until="load")
    first = TREE.nodes[TREE.start]
    answer = first.answers[0]
    assert page.locator(".ts-wizard .ts-tree h3").first.inner_text() == plain(first.text)
    assert data_requests == []

    link = page.locator(f'.ts-wizard a[data-answer="{answer.id}"]')
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".ts-app")
    assert len(data_requests) == 1
    assert page.locator(".ts-step > :first-child").inner_text() == title(TREE.nodes[answer.target])
    assert page.evaluate("document.activeElement.id") == page.locator(
        ".ts-step > :first-child"
    ).get_attribute("id")
    assert f"step={answer.target}" in page.url
    assert page.url.startswith(server + guide)


def test_guide_answer_links_work_without_javascript(browser, server):
    """Without JavaScript the first question's answers lead to the written-out tree."""
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(server + "howto/jupyter-kernel-terminated.html")
        answer = TREE.nodes[TREE.start].answers[0]
        tab.locator(f'.ts-wizard a[data-answer="{answer.id}"]').click()
        assert tab.url.endswith(f"troubleshooter.html#ts-{answer.target}")
        assert tab.locator(f"#ts-{answer.target}").is_visible()
    finally:
        context.close()


# --- hostile addresses -------------------------------------------------------------------

HOSTILE = [
    "step=<script>window.__pwned=1</script>",
    "step=" + quote("<script>window.__pwned=1</script>"),
    "signal=" + quote("<script>window.__pwned=1</script>"),
    "exit_code=" + quote("<script>window.__pwned=1</script>"),
    "message=" + quote("<script>window.__pwned=1</script>"),
    "message=" + quote('<img src=x onerror="window.__pwned=1">'),
    "message=" + quote('"><svg onload="window.__pwned=1">'),
    "step=" + quote('"><svg/onload=window.__pwned=1>'),
    "path=" + quote('"><img src=x onerror=window.__pwned=1>') + "&step=message",
    "signal=" + quote("' onmouseover='window.__pwned=1"),
    "message=" + quote("<a href=javascript:window.__pwned=1>click</a>"),
    "step=javascript:window.__pwned=1",
    "step=" + quote("javascript:alert(document.domain)"),
    "exit_code=javascript:alert(1)",
    "message=" + quote("data:text/html,<script>alert(1)</script>"),
    "message=" + quote("<iframe srcdoc='<script>parent.__pwned=1</script>'>"),
    "message=" + quote("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    "message=" + quote("{{constructor.constructor('alert(1)')()}}"),
    "message=" + quote("${alert(1)}"),
    "message=" + quote("`${alert(1)}`"),
    "step=__proto__",
    "step=constructor",
    "step=prototype",
    "step=toString",
    "step=hasOwnProperty",
    "step=__proto__&path=__proto__.constructor",
    "__proto__[__pwned]=1",
    "constructor[prototype][__pwned]=1",
    "__proto__.__pwned=1",
    "signal=__proto__",
    "signal=constructor",
    "exit_code=__proto__",
    "exit_code=constructor",
    "message=__proto__",
    "path=constructor.prototype",
    "signal=%00",
    "signal=SIGKILL%00",
    "step=message%00which-signal",
    "message=%00%00%00",
    "signal=" + quote("\u202eLLIKGIS"),
    "signal=" + quote("\u202eSIGKILL"),
    "signal=" + quote("SIG\u200dKILL"),
    "message=" + quote("\u200f\u200e\u202a\u202b\u202c\u2066\u2067\u2068\u2069"),
    "signal=" + quote("".join(chr(ord(c) + 0xFEE0) for c in "SIGKILL")),  # full width
    "message=" + quote("".join(chr(ord(c) + 0xFEE0) for c in "Signal") + " \uff19"),
    "message=" + quote("Z̷̢̛a̸l̶g̷o̴ ̶t̵e̸x̶t̷"),
    "message=" + quote("\U0001f480" * 500),
    "signal=%",
    "signal=%ZZ",
    "message=%E0%A4%A",
    "step=%C0%AF",
    "message=%FF%FE%FD",
    "%%%=%%%",
    "&&&&=&=&",
    "signal==9",
    "signal[]=SIGKILL",
    "SIGNAL=SIGKILL",
    "Signal=9",
    "message=" + "A" * 100_000,
    "step=" + "x" * 100_000,
    "signal=" + "9" * 100_000,
    "exit_code=" + "1" * 100_000,
    "path=" + ".".join(["sigkill"] * 20_000) + "&step=message",
    "&".join(f"p{i}={i}" for i in range(2000)),
    "signal=SIGNOPE&signal=SIGKILL",
    "step=message&step=native-crash",
    "exit_code=1e3",
    "exit_code=0x89",
    "exit_code=137.0",
    "exit_code=Infinity",
    "exit_code=NaN",
    "exit_code=99999",
    "signal=999",
    "signal=-999",
    "step=../../etc/passwd",
    "step=" + quote("../../../index.html"),
    "step=ts-message",
    "step=MESSAGE",
    "message=" + quote("\r\nSet-Cookie: x=1"),
    "message=" + quote("signal <script>"),
    "message=" + quote("signal SIGNOPE"),
]


def test_hostile_addresses_open_the_start_and_inject_nothing(tab, site):
    assert len(HOSTILE) >= 50
    # Python's http.server refuses request lines over 64 KiB; the browser takes 2 MB.
    # Serve the page from the build directly so the longest addresses reach the wizard.
    body = (site.html / PAGE).read_bytes()
    tab.route(
        f"{tab.base}{PAGE}?*", lambda route: route.fulfill(body=body, content_type="text/html")
    )
    open_page(tab)
    baseline = tab.evaluate("document.querySelectorAll('*').length")
    for query in HOSTILE:
        assert resolve_query(TREE, first_values(query)) == [], f"not hostile enough: {query[:80]}"
        open_page(tab, query)
        assert shown(tab) == ([], title(START)), query[:80]
        assert tab.evaluate("document.querySelectorAll('*').length") == baseline, query[:80]
        assert tab.evaluate("window.__pwned === undefined && ({}).__pwned === undefined")
        handlers = tab.evaluate(
            "[...document.querySelectorAll('.ts-wizard *')]"
            ".flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))"
        )
        assert handlers == [], query[:80]
        assert tab.log["dialogs"] == [] and tab.log["errors"] == [], query[:80]


# --- moving around -----------------------------------------------------------------------


def choose(tab, label: str) -> None:
    tab.locator(".ts-choices button", has_text=plain(label)).first.click()


def answer_label(path: list[str]) -> str:
    taken, _ = TREE.trace(path)
    return taken[-1][1].label


def test_back_start_over_history_and_reload(tab):
    path = TREE.paths()[0].answers
    open_page(tab)
    for depth in range(1, len(path) + 1):
        choose(tab, answer_label(path[:depth]))
    assert shown(tab) == expected(path)
    end_url = tab.url

    tab.get_by_role("button", name="Back").click()
    assert shown(tab) == expected(path[:-1])
    tab.get_by_role("button", name="Start over").click()
    assert shown(tab) == expected([])
    assert tab.url == f"{tab.base}{PAGE}"
    assert tab.get_by_role("button", name="Back").is_hidden()

    tab.go_back()
    assert shown(tab) == expected(path[:-1])
    tab.go_back()
    assert shown(tab) == expected(path)
    assert tab.url == end_url
    tab.go_forward()
    assert shown(tab) == expected(path[:-1])

    tab.goto(end_url)
    assert shown(tab) == expected(path)
    tab.reload()
    assert shown(tab) == expected(path)

    # a breadcrumb item goes back to its question, keeping the answers before it
    tab.locator(".ts-trail li button").nth(1).click()
    assert shown(tab) == expected(path[:1])
    tab.go_back()
    assert shown(tab) == expected(path)


def test_step_alone_opens_that_step_with_a_path_to_it(tab):
    open_page(tab)
    for node in TREE.nodes.values():
        visit(tab, f"step={node.id}")
        trail, text = shown(tab)
        assert text == title(node)
        assert (trail, text) == expected(resolve_query(TREE, {"step": node.id}))


def test_keyboard_only(tab):
    """Tab, Enter and Space walk a path; focus lands on each new question's heading."""
    path = next(p for p in TREE.paths() if len(p.choices) >= 3)
    open_page(tab, f"step={TREE.start}")
    focused = "document.activeElement"
    assert tab.evaluate(f"{focused}.id") == heading(tab).get_attribute("id")
    keys = ["Enter", "Space"]
    for index, step in enumerate(path.choices):
        label = plain(TREE.nodes[step.question].answer(step.answer).label)
        for _ in range(60):
            tab.keyboard.press("Tab")
            if tab.evaluate(f"{focused}.innerText") == label:
                break
        else:
            pytest.fail(f"Tab never reached {label!r}")
        assert tab.evaluate(f"getComputedStyle({focused}).outlineStyle") != "none"
        tab.keyboard.press(keys[index % 2])
        assert tab.evaluate(f"{focused}.id") == heading(tab).get_attribute("id")
    assert heading(tab).inner_text() == title(TREE.nodes[path.outcome])

    for _ in range(60):
        tab.keyboard.press("Tab")
        if tab.evaluate(f"{focused}.innerText") == "Back":
            break
    tab.keyboard.press("Enter")
    assert shown(tab) == expected(path.answers[:-1])
    assert tab.evaluate(f"{focused}.id") == heading(tab).get_attribute("id")


def test_copy_summary_and_command(tab):
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.base[:-1])
    path = next(p for p in TREE.paths() if len(p.choices) >= 2)
    open_page(tab, f"step={path.outcome}&path={'.'.join(path.answers)}")
    tab.get_by_role("button", name="Copy summary").click()
    tab.wait_for_function("document.querySelector('.ts-live').textContent.startsWith('Copied')")
    summary = tab.evaluate("navigator.clipboard.readText()")
    taken, outcome = TREE.trace(path.answers)
    for question, answer in taken:
        assert f"{question.text} → {answer.label}" in summary
    assert outcome.title in summary
    for number, step in enumerate(outcome.steps, start=1):
        assert f"{number}. {step}" in summary
    assert tab.url in summary

    question = next(q for q in TREE.questions() if q.command)
    open_page(tab, f"step={question.id}")
    tab.get_by_role("button", name="Copy command").click()
    tab.wait_for_function("document.querySelector('.ts-live').textContent.startsWith('Copied')")
    assert tab.evaluate("navigator.clipboard.readText()") == question.command


def test_copy_falls_back_without_the_clipboard_api(tab):
    open_page(tab, f"step={TREE.outcomes()[0].id}")
    tab.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    tab.get_by_role("button", name="Copy summary").click()
    live = tab.locator(".ts-live")
    assert live.text_content().strip() in {
        "Copied",
        "Could not copy: your browser did not allow it",
    }
    assert tab.locator("textarea").count() == 0


def test_without_javascript_the_whole_tree_is_readable(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}{PAGE}")
    for node in TREE.nodes.values():
        section = page.locator(f"section#ts-{node.id}")
        assert section.is_visible()
        assert section.locator(":scope > :first-child").inner_text() == title(node)
    first = START.answers[0]
    page.locator(f"#ts-{START.id} a", has_text=plain(first.label)).click()
    assert page.url.endswith(f"#ts-{first.target}")
    context.close()


def test_strict_content_security_policy(browser, server):
    """Under script-src 'self' the wizard runs, deep links work, and nothing of ours is blocked."""
    context = browser.new_context()
    page = context.new_page()

    def with_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": "script-src 'self'"}
        route.fulfill(response=response, headers=headers)

    page.route(f"{server}{PAGE}*", with_csp)
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__violations.push([e.blockedURI, e.sourceFile, e.violatedDirective]))"
    )
    page.goto(f"{server}{PAGE}?signal=SIGSEGV")
    assert page.locator(".ts-trail li").count() >= 1
    page.locator(".ts-choices button").first.click()
    violations = page.evaluate("window.__violations")
    assert all(blocked == "inline" for blocked, _, _ in violations), violations
    assert not [v for v in violations if "wizard" in (v[1] or "")]
    assert page.locator(".ts-wizard script[type='application/json']").count() == 1
    context.close()


# --- accessibility -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("state", ["start", "question", "outcome", "flowchart"])
def test_no_accessibility_violations(tab, axe, scheme, state):
    tab.emulate_media(color_scheme=scheme)
    path = TREE.paths()[0]
    query = {
        "start": "",
        "question": f"step={path.choices[-1].question}",
        "outcome": f"step={path.outcome}&path={'.'.join(path.answers)}",
        "flowchart": "",
    }[state]
    open_page(tab, query)
    if state == "flowchart":
        tab.locator("details.ts-flowchart summary").click()
    results = axe.run(tab)
    assert results.violations_count == 0, results.generate_report()
