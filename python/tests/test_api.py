"""The API's pieces on small instances with known answers: results, counts and
witnesses, proofs the command line verifies, identify and explain against brute
force, the gradient method, the colouring reduction both ways, load and save."""

import itertools
import json

import numpy as np
import pytest

import partrec


def brute_force(x, y, n, k):
    """Every consistent partition of one group (classes up to renaming)."""
    found = set()
    for labels in itertools.product(range(k), repeat=n):
        canon, seen = [], {}
        for c in labels:
            seen.setdefault(c, len(seen))
            canon.append(seen[c])
        cells = {}
        if all(cells.setdefault(canon[t[0]], v) == v for t, v in zip(x, y)):
            found.add(tuple(canon))
    return found


def pinned_reference(truth, n, k):
    """Pinned tokens by definition: the frame takes identified blocks, the largest
    first (ties: the smallest token), that no consistent partition puts in one class
    with a frame block, up to min(k, n) blocks; a token is pinned when its block is in
    the frame."""
    blocks = {}
    for t in range(n):
        blocks.setdefault(tuple(p[t] for p in sorted(truth)), []).append(t)
    order = sorted(blocks.values(), key=lambda b: (-len(b), b[0]))
    frame = []
    for b in order:
        if len(frame) >= min(k, n):
            break
        if all(all(p[b[0]] != p[f[0]] for p in truth) for f in frame):
            frame.append(b)
    pinned = {t for b in frame for t in b}
    return [t in pinned for t in range(n)]


def test_results_count_and_witness_match_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(60):
        n, k = int(rng.integers(2, 7)), int(rng.integers(1, 4))
        s = int(rng.integers(1, 9))
        x = rng.integers(0, n, size=(s, 1))
        y = rng.integers(0, 2, size=s)
        truth = brute_force(x.tolist(), y.tolist(), n, k)
        r = partrec.solve(x, y, k, tokens=n, count=1000)
        assert r.status == ("sat" if truth else "unsat")
        assert bool(r) == bool(truth)
        assert r.count == len(truth) and r.count_complete
        u = partrec.solve(x, y, k, tokens=n, unique=True)
        if truth:
            assert tuple(u.partition[0].tolist()) in truth
            assert u.unique == (len(truth) == 1)
            if not u.unique:
                assert tuple(u.witness[0].tolist()) in truth
                assert u.witness[0].tolist() != u.partition[0].tolist()
            assert "status='sat'" in repr(u)


def test_string_and_mixed_labels_compare_exactly():
    x = [[0], [1], [2], [3]]
    r = partrec.solve(x, ["1", 1, "1", 1], 2, unique=True)
    assert r.unique and r.partition[0].tolist() == [0, 1, 0, 1]
    assert set(r.table.values()) == {"1", 1}
    assert not partrec.solve(x, ["1", 1, "1", 1], 1)
    assert partrec.solve(x, np.array(["a", "b", "a", "b"]), 2).table == {(0,): "a", (1,): "b"}


def test_certify_writes_a_proof_the_cli_verifies(cli, tmp_path):
    inst = partrec.coloring.reduce([(0, 1), (1, 2), (0, 2)], 2)
    r = partrec.solve(inst, certify=tmp_path / "cert")
    assert r.status == "unsat" and r.certificate["claim"] == "unsat"
    manifest = json.loads((tmp_path / "cert" / "manifest.json").read_text())
    assert manifest[0]["claim"] == "unsat"
    partrec.save(tmp_path / "tri.json", inst)
    done = cli("verify-certificate", tmp_path / "tri.json", tmp_path / "cert")
    assert done.returncode == 0, done.stderr
    # A proof of another instance does not verify.
    partrec.save(tmp_path / "other.json", partrec.coloring.reduce([(0, 1), (1, 2)], 2))
    assert cli("verify-certificate", tmp_path / "other.json", tmp_path / "cert").returncode == 2


def test_identify_and_explain():
    rng = np.random.default_rng(8)
    checked = 0
    while checked < 40:
        n, k, s = int(rng.integers(2, 6)), int(rng.integers(2, 4)), int(rng.integers(2, 8))
        x = rng.integers(0, n, size=(s, 1))
        y = rng.integers(0, 3, size=s)
        truth = brute_force(x.tolist(), y.tolist(), n, k)
        if not truth or len(set(x[:, 0].tolist())) < n:
            continue
        checked += 1
        ident = partrec.identify(x, y, k, tokens=n)
        blocks = ident.identified[0].tolist()
        for a in range(n):
            for b in range(n):
                together = {p[a] == p[b] for p in truth}
                assert (blocks[a] == blocks[b]) == (together == {True})
        assert ident.pinned[0].tolist() == pinned_reference(truth, n, k)
        counts = ident.pinned_counts[0]
        assert counts["pinned"] == sum(ident.pinned[0]) and counts["unobserved"] == 0
        r = partrec.solve(x, y, k, tokens=n, identify=True)
        assert r.identified[0].tolist() == blocks
    e = partrec.explain([[0], [1], [2], [0]], [0, 1, 2, 0], 2)
    assert e.status == "unsat" and e.samples == [0, 1, 2]
    assert e.reason["kind"] == "too_many_different"
    assert partrec.explain([[0], [1], [2]], [0, 1, 0], 2).status == "sat"


def test_learn_recovers_an_easy_planted_partition():
    inst = partrec.generate(tokens=20, classes=2, values=2, groups=2, ratio=8, seed=2)
    rep = partrec.learn(inst, steps=1500, seed=1)
    assert rep.status in ("sat", "unknown")
    if rep:
        assert partrec.check(inst.x, inst.y, rep.partition, classes=inst.classes)


def test_coloring_reduction_both_ways_with_networkx():
    nx = pytest.importorskip("networkx")
    g = nx.petersen_graph()
    assert not partrec.solve(partrec.coloring.reduce(g, 2))
    inst = partrec.coloring.reduce(g, 3)
    r = partrec.solve(inst)
    colors = partrec.coloring.extract(g, 3, r.partition)
    assert set(colors) == set(g.nodes)
    assert all(colors[u] != colors[v] for u, v in g.edges)
    lifted = partrec.coloring.lift(g, 3, colors)
    assert partrec.check(inst.x, inst.y, lifted, classes=inst.classes)
    bad = dict(colors)
    u, v = next(iter(g.edges))
    bad[u] = bad[v]
    assert not partrec.check(inst.x, inst.y, partrec.coloring.lift(g, 3, bad), classes=inst.classes)


@pytest.mark.parametrize("suffix", ["json", "npz"])
def test_load_and_save_round_trip(tmp_path, suffix):
    inst = partrec.generate(tokens=[7, 5], classes=[3, 2], values=3, samples=40, seed=4)
    path = tmp_path / f"i.{suffix}"
    inst.save(path)
    back = partrec.load(path)
    assert np.array_equal(back.x, inst.x) and np.array_equal(back.y, inst.y)
    assert back.tokens == [7, 5] and back.classes == [3, 2]
    assert [p.tolist() for p in back.planted] == [p.tolist() for p in inst.planted]
    assert partrec.solve(back, unique=True).unique == partrec.solve(inst, unique=True).unique


def test_names_and_max_consistency(cli, tmp_path):
    from conftest import ROOT

    out = tmp_path / "g.json"
    done = cli("import", ROOT / "instances/german/gender-noisy.csv", "--group", "noun",
               "--group", "context", "--value", "article", "--classes", "3,7", "-q", "-o", out)
    assert done.returncode == 0, done.stderr
    inst = partrec.load(out)
    assert inst.names is not None and "Hund" in inst.names[0]
    assert not partrec.solve(inst)
    r = partrec.solve(inst, max_consistent=True)
    assert r and r.max_consistent["optimal"]
    corrupted = [int(v) for v in (ROOT / "instances/german/corrupted.txt").read_text().split()]
    assert r.max_consistent["dropped"] == corrupted
    genders = [set(c) for c in r.names[0]]
    assert any({"Hund", "Mann", "Vater"} <= c for c in genders)
    assert "dropped=4" in repr(r)


def test_read_table_names_the_classes(tmp_path):
    from conftest import ROOT

    inst = partrec.read_table(ROOT / "instances/german/gender.csv", ["noun", "context"], "article", classes=[3, 7])
    assert len(inst.names[0]) == 74 and inst.classes == [3, 7]
    r = partrec.solve(inst, unique=True)
    assert r and r.names is not None
    contexts = [set(c) for c in r.names[1]]
    assert {"nom.pl", "acc.pl"} in contexts and len(contexts) == 7
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,,2\n")
    with pytest.raises(ValueError, match="line 2: column \"b\" \\(a token\\) is empty"):
        partrec.read_table(bad, ["a", "b"], "y")
