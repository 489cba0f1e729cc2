#!/usr/bin/env python3
"""Extracts the King James Version of the Bible from Debian's bible-kjv-text package (through the
`bible` program of bible-kjv) into chapters: every 25th chapter (Genesis 25, Genesis 50, ...) is held out
as the bundled evaluation corpus (assets/corpus.jsonl, one chapter per line: {"id", "text"}); the other
chapters are the training text of the bundled model (written to OUT_DIR/train.jsonl, not committed).

Usage: python3 scripts/assets/extract-corpus.py OUT_DIR
Needs: apt-get install bible-kjv bible-kjv-text. The KJV text is public domain (see assets/ASSETS.md).
"""
import json
import os
import re
import subprocess
import sys

HOLD_OUT_EVERY = 25


def chapters(dump: str):
    """Yields (name, text) per chapter of `bible` output: a 'Book N' heading, then '  V text' verse lines."""
    name, verses = None, []
    for line in dump.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^\s+\d+ (.*)$", line)
        if m:
            verses.append(m.group(1).strip())
            continue
        if name is not None:
            yield name, " ".join(verses)
        name, verses = line.strip(), []
    if name is not None:
        yield name, " ".join(verses)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: extract-corpus.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    dump = subprocess.run(["bible", "-l100000", "gen1:1-rev22:21"], check=True, capture_output=True, text=True).stdout
    if not dump.isascii():
        sys.exit("expected ASCII text from bible")
    train, held = [], []
    for i, (name, text) in enumerate(chapters(dump)):
        (held if (i + 1) % HOLD_OUT_EVERY == 0 else train).append({"id": name, "text": text})
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(out_dir, "train.jsonl"), "w") as f:
        for d in train:
            f.write(json.dumps(d) + "\n")
    with open(os.path.join(root, "assets", "corpus.jsonl"), "w") as f:
        for d in held:
            f.write(json.dumps(d) + "\n")
    print(f"{len(train)} training chapters, {len(held)} held-out chapters -> assets/corpus.jsonl")


if __name__ == "__main__":
    main()
