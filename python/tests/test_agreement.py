"""The Python module answers as the command line does: on every shipped instance and
on 50 generated ones (YES and NO), status, uniqueness and counts agree, every
partition passes the checker, and unique partitions are equal."""

import random

import numpy as np
import pytest

import partrec
from conftest import ROOT, cli_answer

SHIPPED = sorted((ROOT / "instances").glob("*.json"))


def rows(partition):
    return [list(map(int, r)) for r in partition]


def agree(cli_ans, py, inst):
    assert py.status == cli_ans["status"]
    assert py.unique == cli_ans.get("unique")
    assert py.count == cli_ans.get("count")
    assert py.count_complete == cli_ans.get("count_complete")
    if py.status == "sat":
        assert partrec.check(inst.x, inst.y, py.partition, classes=inst.classes, tokens=inst.tokens)
        if py.unique:
            assert rows(py.partition) == cli_ans["partition"]


def test_shipped_instances_are_there():
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_instances_answer_as_the_cli(cli, path, tmp_path):
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    inst = partrec.load(copy)
    # 5 s: the shipped hard instance answers unknown on both sides.
    py = partrec.solve(inst, unique=True, timeout=5)
    agree(cli_answer(cli, copy, "--unique", "--timeout", 5), py, inst)


def test_generated_instances_answer_as_the_cli(cli, tmp_path):
    rng = random.Random(16)
    verdicts = set()
    for i in range(50):
        groups = rng.choice([1, 2, 2, 3])
        n = rng.randint(4, 25 if groups == 3 else 40)
        k = rng.randint(2, 4)
        inst = partrec.generate(
            tokens=n,
            classes=k,
            # One group needs a value per class; more groups need fewer.
            values=k if groups == 1 else rng.randint(2, 3),
            groups=groups,
            ratio=rng.choice([0.3, 0.8, 1.5, 3.0, 6.0]),
            seed=i,
        )
        # Some NO instances: shrink the class bound below the planted one.
        classes = list(inst.classes)
        if i % 3 == 0:
            classes = [max(1, k - 1) for k in classes]
        inst.classes = classes
        inst.planted = None
        path = tmp_path / f"g{i}.{'npz' if i % 2 else 'json'}"
        partrec.save(path, inst)
        flags = ["--unique"] if i % 4 else ["--count", 3]
        py = partrec.solve(inst, timeout=60, **({"unique": True} if i % 4 else {"count": 3}))
        agree(cli_answer(cli, path, *flags, "--timeout", 60), py, inst)
        verdicts.add(py.status)
    assert verdicts >= {"sat", "unsat"}


def test_int32_and_int64_and_lists_give_the_same_answer():
    inst = partrec.generate(tokens=30, classes=3, values=3, groups=2, ratio=4, seed=5)
    answers = []
    for x in (inst.x.astype(np.int32), inst.x.astype(np.int64), inst.x.astype(np.uint16), inst.x.tolist()):
        r = partrec.solve(x, inst.y, inst.classes, tokens=inst.tokens, unique=True)
        answers.append((r.status, r.unique, rows(r.partition)))
    assert all(a == answers[0] for a in answers)
