#!/usr/bin/env python3
"""Writes the character-class table the tokenizer's pre-tokenizer uses (Unicode 14.0.0).

The reference tokenizer (Hugging Face tokenizers, Rust) matches its Split regexes with Oniguruma 6.9.8, whose
Unicode data is version 14.0.0; Python 3.11's unicodedata is the same version, so this script reproduces it.
The JDK's own java.lang.Character data changes with the JDK (Unicode 13 on 17, 16 on 25): the tokenizer never
uses it.

Classes (bit flags): 1 L (letter), 2 M (mark), 4 N (number), 8 P (punctuation), 16 S (symbol),
32 WS (Oniguruma \\s: U+0009-000D, U+0085, Zs, Zl, Zp).
Output: text, one run per line, "<first code point in hex> <flags>", for runs covering 0..10FFFF.

Run: python3 tools/gen_unicode_classes.py > src/main/resources/dev/dsv32/tokenizer/unicode-classes.txt
"""
import sys
import unicodedata

assert unicodedata.unidata_version == "14.0.0", unicodedata.unidata_version

BITS = {"L": 1, "M": 2, "N": 4, "P": 8, "S": 16}


def flags(cp):
    cat = unicodedata.category(chr(cp))
    f = BITS.get(cat[0], 0)
    if 0x09 <= cp <= 0x0D or cp == 0x85 or cat in ("Zs", "Zl", "Zp"):
        f |= 32
    return f


def main():
    out = sys.stdout
    out.write("# Character classes for the DeepSeek-V3.2 pre-tokenizer, Unicode %s (see tools/gen_unicode_classes.py)\n"
              % unicodedata.unidata_version)
    prev = None
    for cp in range(0x110000):
        f = flags(cp)
        if f != prev:
            out.write("%x %d\n" % (cp, f))
            prev = f


if __name__ == "__main__":
    main()
