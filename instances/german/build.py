#!/usr/bin/env python3
"""Builds the grammatical-gender example from public facts (run from this folder;
standard library only, seeded, so the files it writes are reproducible):

- nouns.csv: 74 common German nouns with their grammatical gender, as every
  dictionary gives them (each can be checked in the Duden online dictionary,
  duden.de);
- gender.csv: samples (noun, context) -> definite article, for the contexts
  nominative, accusative, dative and genitive, singular and plural, by the
  definite-article paradigm of German grammar (e.g. Duden, Die Grammatik):

      case        m.sg  f.sg  n.sg   plural (all genders)
      nominative  der   die   das    die
      accusative  den   die   das    die
      dative      dem   der   dem    den
      genitive    des   der   des    der

  Each noun is seen in a few contexts (a realistic subset, not the full grid): most
  nouns in the nominative or accusative singular and 1 to 3 other contexts; six only
  in two plural contexts, where the article does not show gender, and six only in
  the dative singular, where it tells feminine from the rest but not masculine from
  neuter;
- gender-noisy.csv: the same samples with 2% of the articles replaced by another
  article; corrupted.txt lists the corrupted rows as partrec numbers samples (the
  data rows after the header, from 0).
"""

import random

NOUNS = {
    "m": "Hund Tisch Baum Stuhl Mann Apfel Garten Vater Bruder Wein Kaffee Schlüssel "
    "Teller Löffel Berg Fluss Wald Zug Brief Lehrer Tag Name Himmel Regen Schnee Wind",
    "f": "Katze Tür Blume Lampe Frau Banane Straße Mutter Schwester Milch Zeitung Uhr "
    "Tasse Gabel Stadt Brücke Wiese Bahn Karte Schule Nacht Frage Sonne Kirche",
    "n": "Haus Fenster Buch Auto Kind Brot Bett Mädchen Wasser Bier Zimmer Glas Messer "
    "Licht Dorf Meer Feld Schiff Bild Jahr Wort Ende Pferd Geld",
}
CONTEXTS = ["nom.sg", "acc.sg", "dat.sg", "gen.sg", "nom.pl", "acc.pl", "dat.pl", "gen.pl"]
ARTICLE = {
    "m": ["der", "den", "dem", "des", "die", "die", "den", "der"],
    "f": ["die", "die", "der", "der", "die", "die", "den", "der"],
    "n": ["das", "das", "dem", "des", "die", "die", "den", "der"],
}
ARTICLES = ["der", "die", "das", "den", "dem", "des"]


def main():
    rng = random.Random(2024)
    nouns = [(noun, g) for g in "mfn" for noun in NOUNS[g].split()]
    rng.shuffle(nouns)
    plural_only = {noun for noun, _ in nouns[:6]}
    dative_only = {noun for noun, _ in nouns[6:12]}
    rows = []
    for noun, gender in nouns:
        if noun in plural_only:
            seen = rng.sample(range(4, 8), 2)
        elif noun in dative_only:
            seen = [2]
        else:
            # The nominative or accusative singular (the commonest uses), and 1 to 3 more.
            first = rng.choice([0, 1])
            seen = [first] + rng.sample([c for c in range(8) if c != first], rng.randint(1, 3))
        for c in seen:
            rows.append((noun, CONTEXTS[c], ARTICLE[gender][c]))
    rng.shuffle(rows)
    with open("nouns.csv", "w", encoding="utf-8") as f:
        f.write("noun,gender\n")
        for noun, gender in sorted(nouns):
            f.write(f"{noun},{gender}\n")
    with open("gender.csv", "w", encoding="utf-8") as f:
        f.write("noun,context,article\n")
        for row in rows:
            f.write(",".join(row) + "\n")
    # 2% corrupted, among nouns seen in more than one context (a noun seen once
    # could not show a wrong article against anything).
    seen_count = {}
    for noun, _, _ in rows:
        seen_count[noun] = seen_count.get(noun, 0) + 1
    candidates = [i for i, (noun, _, _) in enumerate(rows) if seen_count[noun] > 1]
    corrupted = sorted(rng.sample(candidates, round(0.02 * len(rows))))
    noisy = list(rows)
    for i in corrupted:
        noun, context, article = rows[i]
        noisy[i] = (noun, context, rng.choice([a for a in ARTICLES if a != article]))
    with open("gender-noisy.csv", "w", encoding="utf-8") as f:
        f.write("noun,context,article\n")
        for row in noisy:
            f.write(",".join(row) + "\n")
    with open("corrupted.txt", "w", encoding="utf-8") as f:
        f.write(" ".join(str(i) for i in corrupted) + "\n")
    print(f"{len(nouns)} nouns, {len(rows)} samples, {len(corrupted)} corrupted: {corrupted}")


if __name__ == "__main__":
    main()
