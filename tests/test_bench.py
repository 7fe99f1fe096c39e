"""The benchmark's judge and reporter (bench/report.py) and its gzip server (bench/serve.py).

The benchmark itself is slow and noisy and runs only in ``nox -s bench``; these tests check
that its verdicts and its table say what the figures are.
"""

from __future__ import annotations

import gzip
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report, serve  # noqa: E402
from bench.report import Budget, Figure  # noqa: E402

AT_MOST = Budget("<=", 213_156, "issue 2")
AT_LEAST = Budget(">=", 98, "issue 2")


@pytest.mark.parametrize(
    ("value", "budget", "expected"),
    [
        (213_155, AT_MOST, "within"),
        (213_156, AT_MOST, "within"),
        (213_157, AT_MOST, "over"),
        (0, Budget("<=", 0), "within"),
        (1, Budget("<=", 0), "over"),
        (98, AT_LEAST, "within"),
        (100, AT_LEAST, "within"),
        (97, AT_LEAST, "over"),
        (0.21, Budget("<=", 0.2), "over"),
        (12.5, None, "no budget"),
        (None, AT_MOST, "not measured"),
    ],
)
def test_classify_within_or_over(value, budget, expected):
    assert report.classify(value, budget) == expected
    assert Figure("page", "bytes", "B", value, budget).status == expected


def test_a_piece_that_exists_but_fails_is_a_failure_and_a_missing_one_is_not():
    missing = report.not_measured("demos", "click to first output", "s", "bench/lite.py absent")
    broken = report.failed("diagnose", "wall time", "s", "exit code 2", Budget("<=", 0.2))
    assert missing.status == "not measured"
    assert broken.status == "failed"
    assert not report.run_failed([missing, Figure("page", "requests", "", 12, Budget("<=", 15))])
    assert report.run_failed([missing, broken])
    assert report.run_failed([Figure("page", "requests", "", 16, Budget("<=", 15))])


def _results() -> dict:
    figures = [
        Figure("kernel-terminated guide", "bytes, uncompressed", "B", 206_210, AT_MOST),
        Figure("kernel-terminated guide", "Lighthouse mobile performance", "", 91, AT_LEAST),
        Figure("Build", "clean build", "s", 3.456),
        report.not_measured("demos", "click to first output", "s", "no <demo> |\n  yet"),
    ]
    pages = {
        "kernel-terminated guide": {
            "plain": {
                "bytes": 206_210,
                "requests": 12,
                "by_kind": {
                    "document": {"requests": 1, "bytes": 83_515},
                    "script": {"requests": 11, "bytes": 122_695},
                },
            }
        }
    }
    machine = {"cpu": "Test CPU", "cores": 2, "memory_gib": 24, "os": "Linux", "python": "3.11"}
    return report.results_dict(
        figures,
        date="2026-01-02 03:04 UTC",
        commit="abc1234",
        machine=machine,
        details={"pages": pages},
    )


def _row(markdown: str, figure: str) -> list[str]:
    for line in markdown.splitlines():
        if line.startswith(f"| {figure} |"):
            return [cell.strip() for cell in line.strip("|").split(" | ")]
    raise AssertionError(f"no row for {figure!r} in:\n{markdown}")


def test_results_markdown_has_one_row_per_figure_with_value_budget_and_verdict():
    markdown = report.render_markdown(_results())
    assert "2026-01-02 03:04 UTC" in markdown
    assert "`abc1234`" in markdown
    assert "Test CPU, 2 cores, 24 GiB memory" in markdown
    assert "1 within budget, 1 over budget, 0 failed, 1 not measured yet." in markdown

    weight = _row(markdown, "kernel-terminated guide: bytes, uncompressed")
    assert weight[1:4] == ["206,210 B (206.2 kB)", "≤ 213,156 B", "within"]
    score = _row(markdown, "kernel-terminated guide: Lighthouse mobile performance")
    assert score[1:4] == ["91", "≥ 98", "**over**"]
    build = _row(markdown, "Build: clean build")
    assert build[1:4] == ["3.46 s", "—", "—"]
    demo = _row(markdown, "demos: click to first output")
    assert demo[3] == "not measured"
    # Free text is escaped and kept on one line so it cannot break the table or turn into HTML.
    assert demo[4] == r"not measured yet: no \<demo\> \| yet"
    assert "| kernel-terminated guide | http.server | 83,515 (1) |" in markdown


def test_results_are_written_as_json_and_markdown(tmp_path):
    results = _results()
    json_path, md_path = report.write(results, tmp_path)
    assert json_path.read_text().count('"status"') == len(results["figures"])
    assert md_path.read_text() == report.render_markdown(results)


def test_the_gzip_server_compresses_text_like_a_static_host(tmp_path):
    page = "<!doctype html><title>t</title>" + "<p>kernel died</p>" * 500
    (tmp_path / "page.html").write_text(page)
    (tmp_path / "picture.png").write_bytes(b"\x89PNG" + bytes(2000))
    with serve.serve(tmp_path, compressed=True) as base:
        request = urllib.request.Request(base + "page.html", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            body = response.read()
            assert response.headers["Content-Encoding"] == "gzip"
            assert int(response.headers["Content-Length"]) == len(body) < len(page)
        assert gzip.decompress(body).decode() == page
        request = urllib.request.Request(base + "picture.png", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Encoding"] is None
            assert len(response.read()) == 2004


def test_the_gzip_server_answers_an_unchanged_file_with_304(tmp_path):
    (tmp_path / "app.js").write_text("console.log('kernel died');\n" * 200)
    with serve.serve(tmp_path, compressed=True) as base:
        request = urllib.request.Request(base + "app.js", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
            assert response.headers["Content-Encoding"] == "gzip"
        for validator in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
            again = urllib.request.Request(
                base + "app.js", headers={"Accept-Encoding": "gzip", **validator}
            )
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(again)
            assert answer.value.code == 304
        (tmp_path / "app.js").write_text("console.log('changed');\n")
        changed = urllib.request.Request(
            base + "app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
        )
        with urllib.request.urlopen(changed) as response:
            assert gzip.decompress(response.read()) == b"console.log('changed');\n"
