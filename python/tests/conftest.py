"""Shared helpers: the repository root and the `partrec` command-line binary that the
agreement tests compare against (built by `cargo build --release`; set PARTREC_BIN
to use another). Tests that need the binary skip, saying so, when it is missing."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli_path():
    path = Path(os.environ.get("PARTREC_BIN", ROOT / "target" / "release" / "partrec"))
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def cli():
    """Runs the command line: cli(*args) -> CompletedProcess (text)."""
    path = cli_path()
    if path is None:
        pytest.skip(
            "the partrec binary is not built (run `cargo build --release` or set PARTREC_BIN)"
        )

    def run(*args, timeout=120):
        return subprocess.run(
            [str(path), *map(str, args)], capture_output=True, text=True, timeout=timeout
        )

    return run


@pytest.fixture(scope="session")
def hard():
    """An instance of the hard band (I = 3, N = 50, ratio 1.25, seed 3) that no solver
    here decides within a minute: for timeouts and interrupts."""
    import partrec

    return partrec.generate(tokens=50, classes=3, values=2, groups=3, ratio=1.25, seed=3)


def cli_answer(cli, path, *flags):
    """The CLI's answer to `solve path flags` as a dict."""
    out = Path(str(path) + ".answer.json")
    done = cli("solve", path, *flags, "-q", "-o", out)
    assert done.returncode in (0, 10, 20), done.stderr
    return json.loads(out.read_text())
