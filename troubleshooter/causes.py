"""The fixed set of causes a kernel death is sorted into, and where each is explained.

Every outcome of the decision tree and every verdict of ``diagnose`` names one of
these ids. Each id's ``label`` is a Sphinx label on the kernel-terminated guide, so
``SITE_URL + GUIDE_PAGE + "#" + label`` opens its section.
"""

from __future__ import annotations

from dataclasses import dataclass

SITE_URL = "https://doc.cocalc.com/"
GUIDE_PAGE = "howto/jupyter-kernel-terminated.html"
LOW_MEMORY_PAGE = "howto/low-memory.html"


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    label: str


CAUSES: dict[str, Cause] = {
    cause.id: cause
    for cause in (
        Cause("out-of-memory", "Out of memory", "out-of-memory"),
        Cause("native-crash", "A crash in native code", "native-crash"),
        Cause("abi-mismatch", "A binary (ABI) mismatch between libraries", "abi-mismatch"),
        Cause("thread-limit", "Too many threads or processes", "thread-limit"),
        Cause("stack-overflow", "Deep recursion overflowed the stack", "stack-overflow"),
        Cause("output-flood", "Too much output", "output-flood"),
        Cause("disk-full", "The disk is full", "disk-full"),
        Cause("broken-environment", "A broken kernel environment", "broken-environment"),
        Cause("restart-or-idle", "A restart or an idle shutdown", "restart-or-idle"),
        Cause("disconnected", "Not dead: the connection dropped", "really-dead"),
        Cause("unknown", "Not known yet", "report-a-bug"),
    )
}


# Every label of the two guides, by page: trees link to them, tests check they exist.
GUIDE_LABELS: dict[str, tuple[str, ...]] = {
    GUIDE_PAGE: (
        "jupyter-kernel-terminated",
        "what-the-message-says",
        "gpu-memory",
        *(cause.label for cause in CAUSES.values()),
        "run-outside-jupyter",
        "plain-jupyter-server",
    ),
    LOW_MEMORY_PAGE: (
        "low-memory",
        "why-memory-runs-out",
        "see-memory-use",
        "cgroup-files",
        "jupyter-halt",
        "free-memory",
        "save-results",
        "need-less-memory",
        "find-memory-growth",
        "more-memory",
    ),
}


def guide_url(cause_id: str, site_url: str = SITE_URL) -> str:
    """The address of the guide section that explains ``cause_id``."""
    return label_url(CAUSES[cause_id].label, site_url)


def label_url(label: str, site_url: str = SITE_URL) -> str:
    """The address of a guide label's section (see ``GUIDE_LABELS``)."""
    page = next((page for page, labels in GUIDE_LABELS.items() if label in labels), GUIDE_PAGE)
    return f"{site_url}{page}#{label}"


def step_url(node_id: str, site_url: str = SITE_URL) -> str:
    """The address that opens the troubleshooter wizard at ``node_id``."""
    return f"{site_url}{GUIDE_PAGE}?step={node_id}"
