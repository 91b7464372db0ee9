"""The Python examples of the manual run as written: every ```python block of
docs/python.md, and of README.md's `## Python` section when it has one, in order, in
one namespace per page, in a scratch folder holding a copy of `instances/`. A block
followed by a ```text block (nothing but blank lines between) must print exactly
that text, where `...` stands for anything within a line."""

import contextlib
import io
import os
import re
import shutil

import pytest

from conftest import ROOT

FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)


def examples(text):
    """(line, code, printed or None) for every python block of `text`."""
    fences = list(FENCE.finditer(text))
    out = []
    for i, f in enumerate(fences):
        if f.group(1) != "python":
            continue
        printed = None
        if i + 1 < len(fences):
            after = fences[i + 1]
            if after.group(1) == "text" and not text[f.end():after.start()].strip():
                printed = after.group(2)
        out.append((text.count("\n", 0, f.start()) + 1, f.group(2), printed))
    return out


def matches(printed, expected):
    """Whether `printed` is `expected`, line by line, `...` matching anything."""
    got, want = printed.rstrip("\n").split("\n"), expected.rstrip("\n").split("\n")
    return len(got) == len(want) and all(
        re.fullmatch(".*?".join(map(re.escape, w.split("..."))), g) for g, w in zip(got, want)
    )


def run_page(name, text, folder):
    """Runs the page's python blocks; returns how many ran and how many printed as shown."""
    namespace = {"__name__": "__main__"}
    compared = 0
    blocks = examples(text)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for line, code, expected in blocks:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"{name}, the block at line {line}", "exec"), namespace)
            if expected is not None:
                assert matches(buffer.getvalue(), expected), (
                    f"{name}, the block at line {line} printed\n{buffer.getvalue()}"
                    f"where the page shows\n{expected}"
                )
                compared += 1
    finally:
        os.chdir(cwd)
    return len(blocks), compared


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    shutil.copytree(ROOT / "instances", tmp_path / "instances")
    return tmp_path


def test_examples_parse_with_their_printed_text():
    page = (
        "```python\nprint(1)\n```\n\n```text\n1\n```\n```python\npass\n```\n```text\nno\n```\n"
        "```python\nx = 1\n```\nprose between\n```text\nnot its output\n```\n"
    )
    assert examples(page) == [(1, "print(1)\n", "1\n"), (8, "pass\n", "no\n"), (14, "x = 1\n", None)]
    assert matches("a 0.123 s\nb\n", "a ... s\nb")
    assert not matches("a 0.123 s\n", "a ... s\nb")
    assert not matches("c 0.123 s\n", "a ... s")


def test_the_manual_python_page_runs_as_written(scratch):
    pytest.importorskip("matplotlib", reason="the page's plot needs matplotlib (pip install \"./python[plot]\")")
    ran, compared = run_page("docs/python.md", (ROOT / "docs" / "python.md").read_text(), scratch)
    assert ran >= 10 and compared >= 10, (ran, compared)
    # What the page says it writes.
    assert (scratch / "p_unique.png").stat().st_size > 1000
    assert (scratch / "proof" / "manifest.json").is_file()


def test_the_readme_python_section_runs_as_written(scratch):
    text = (ROOT / "README.md").read_text()
    if "\n## Python\n" not in text:
        pytest.skip("README.md has no Python section (docs/python.md is the Python manual)")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    if "matplotlib" in section:
        pytest.importorskip("matplotlib", reason="the README's example plots")
    run_page("README.md", section, scratch)
