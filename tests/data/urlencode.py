#!/usr/bin/env python3
"""Writes urlencode.json beside this script: pairs, and what Python's
urllib.parse.urlencode makes of them (what requests sends for data= and params=).

The crate's own encoder (src/urlencode.rs) is tested against the file. It was made once
and committed; to make it again, after adding cases here:

    python3 tests/data/urlencode.py
"""

import json
import pathlib
import urllib.parse

cases = []

# Every ASCII character alone, as a key and as a value.
for code in range(128):
    char = chr(code)
    cases.append([[char, char]])

# Beyond ASCII: two, three and four bytes of UTF-8, and spaces that are not ASCII's.
for text in ["é", "ß", "日本語", "🦀", "\u00a0", "\u2028", "\ufeff", "naïve café"]:
    cases.append([["k", text], [text, "v"]])

cases += [
    [["a", "1"], ["b", "2"]],
    # Repeated keys, kept in order.
    [["a", "1"], ["a", "2"], ["b", "3"], ["a", "4"]],
    # Empty keys and values.
    [["", ""], ["k", ""], ["", "v"]],
    # What would break the pairs apart if left as it is.
    [["a b&c=d", "e+f%g"], ["?#", "/;:@"]],
    [["q", "1 + 1 = 2"], ["path", "/home/user/file name.txt"]],
    [["email", "someone+tag@example.com"], ["unreserved", "A-Z_a.z~0-9"]],
    [["percent", "100%"], ["encoded", "%20%2B"]],
    [["tabs\tand\nlines", "\r\n"]],
]

out = [{"pairs": pairs, "encoded": urllib.parse.urlencode([tuple(p) for p in pairs])} for pairs in cases]
target = pathlib.Path(__file__).with_name("urlencode.json")
target.write_text(json.dumps(out, ensure_ascii=True, indent=1) + "\n")
