"""Functions that read or write a path: a missing file is FileNotFoundError naming
the path, and a table given to `load` says to read it with `read_table`."""

import re

import numpy as np
import pytest

import partrec

TABLE = "word,context,y\ndog,the,a\ncat,the,b\ndog,a,a\n"


@pytest.mark.parametrize(
    "call",
    [
        lambda p: partrec.load(p / "nothing.json"),
        lambda p: partrec.load(str(p / "nothing.npz")),
        lambda p: partrec.load(p / "nothing.csv"),
        lambda p: partrec.read_table(p / "nothing.csv", ["word"], "y"),
        lambda p: partrec.save(p / "no-folder" / "x.json", partrec.generate(5, 2, samples=10)),
    ],
    ids=["load json", "load npz", "load csv", "read_table", "save into a missing folder"],
)
def test_a_missing_file_is_file_not_found_with_its_path(tmp_path, call):
    with pytest.raises(FileNotFoundError) as e:
        call(tmp_path)
    assert e.value.filename is not None and str(tmp_path) in e.value.filename
    assert e.value.filename in str(e.value)


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "T.CSV", "t.txt", "table"])
def test_load_of_a_table_says_to_use_read_table(tmp_path, name):
    path = tmp_path / name
    path.write_text(TABLE.replace(",", "\t") if "tsv" in name.lower() else TABLE)
    with pytest.raises(ValueError) as e:
        partrec.load(path)
    message = str(e.value)
    assert "\n" not in message
    assert "partrec.read_table(path, groups=[COLUMN, ...], value=COLUMN)" in message
    # The example the message gives is a call that works.
    example = re.search(r"e\.g\. (partrec\.read_table\(.*?\)) \(its columns", message).group(1)
    inst = eval(example, {"partrec": partrec})
    assert inst.names == [["dog", "cat"], ["the", "a"]]


def test_a_table_extension_is_enough(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"a table, not an instance file: read it with partrec\.read_table"):
        partrec.load(path)


def test_other_bad_files_keep_their_own_message(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"groups": [')
    with pytest.raises(ValueError) as e:
        partrec.load(path)
    assert "read_table" not in str(e.value)
    path.write_bytes(b"PK\x03\x04 not, really, a zip")
    npz = path.rename(tmp_path / "bad.npz")
    with pytest.raises(ValueError) as e:
        partrec.load(npz)
    assert "read_table" not in str(e.value)


def test_good_files_still_load(tmp_path):
    inst = partrec.generate(6, 2, samples=20, seed=4)
    for name in ("a.json", "a.npz"):
        partrec.save(tmp_path / name, inst)
        back = partrec.load(tmp_path / name)
        assert np.array_equal(back.x, inst.x)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("name", ["pipe.json", "pipe.csv", "pipe"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, name):
    import os
    import subprocess
    import sys

    fifo = tmp_path / name
    os.mkfifo(fifo)
    # In a child with a time limit: a read of the FIFO would block forever.
    done = subprocess.run(
        [sys.executable, "-c", f"import partrec\ntry:\n    partrec.load({str(fifo)!r})\nexcept ValueError as e:\n    print(e)"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "not a regular file" in done.stdout
