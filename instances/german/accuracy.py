#!/usr/bin/env python3
"""Scores a `partrec solve` answer on the gender example against the known genders:
python3 accuracy.py ANSWER.json nouns.csv

Prints the share of nouns in their gender's class (under the best matching of the
three classes to the three genders), and, when the answer was made with
--identify, the same share over the nouns that every consistent partition puts
together with other nouns (those the samples pin down). Standard library only."""

import csv
import itertools
import json
import sys


def main():
    answer = json.load(open(sys.argv[1], encoding="utf-8"))
    gender = {r["noun"]: r["gender"] for r in csv.DictReader(open(sys.argv[2], encoding="utf-8"))}
    classes = answer["names"][0]
    perms = list(itertools.permutations("mfn", len(classes)))

    def right(nouns):
        return max(sum(gender[n] == g for c, g in zip(classes, p) for n in c if n in nouns) for p in perms)

    print(f"accuracy {right(gender) / len(gender):.3f} ({right(gender)} of {len(gender)} nouns)")
    if "identified_names" in answer:
        pinned = {n for block in answer["identified_names"][0] if len(block) > 1 for n in block}
        print(f"accuracy on the {len(pinned)} nouns the samples pin down: {right(pinned) / len(pinned):.3f}")


if __name__ == "__main__":
    main()
