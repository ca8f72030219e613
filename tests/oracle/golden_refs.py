#!/usr/bin/python3
"""Writes the CPython verdict on every name of a golden snippet: one line per ast.Name,
"line:col name ctx resolution", sorted by position (tests/golden/extract/<name>.refs).

usage: golden_refs.py SNIPPET.py > SNIPPET.refs   (run with /usr/bin/python3)
"""
import ast
import os
import symtable
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import Walker  # noqa: E402


def main():
    path = sys.argv[1]
    src = open(path, encoding="utf-8").read()
    tree = ast.parse(src, path)
    top = symtable.symtable(src, path, "exec")
    future = any(isinstance(s, ast.ImportFrom) and s.module == "__future__" and
                 any(a.name == "annotations" for a in s.names) for s in tree.body)
    w = Walker(top, future)
    for s in tree.body:
        w.stmt(s, top, None)
    for line, col, name, ctx, res in sorted(w.names):
        print("%d:%d %s %s %s" % (line, col, name, ctx, res))


if __name__ == "__main__":
    main()
