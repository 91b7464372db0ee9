"""The README's Python examples run as written: every ```python block of its
`## Python` section, in order, in one namespace, in a scratch folder."""

import os
import re

from conftest import ROOT


def test_readme_python_examples_run(tmp_path, capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 2
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace = {}
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "p_unique.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "recovered the planted partition: True" in out
    assert "word classes:    [0 1 2 0 1 2 0 1 2 0]" in out
