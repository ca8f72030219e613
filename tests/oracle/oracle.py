#!/usr/bin/python3
"""CPython oracle for the extractor: def spans against `ast`, refs.resolution against `symtable`.

usage: oracle.py CLI ROOT [--out DIR] [--extract-cmd CMD]

Runs `CMD ROOT -o DIR --quiet` (default CMD: "CLI extract"), reads the evidence through
`CLI query` (DuckDB over the written files) and compares, per file that CPython compiles:
  * every FunctionDef/AsyncFunctionDef/ClassDef/Lambda span (lineno, col_offset, end_lineno,
    end_col_offset) with the defs rows of kind function/class/lambda;
  * every ast.Name (id, ctx, position) with a refs row, and its resolution with what symtable
    says under cpg.md §2's mapping (implicit .0 and __class__ excepted; private names mangled).
Every disagreement is printed; exit status 1 when there is any. Run with /usr/bin/python3.
"""
import ast
import json
import os
import subprocess
import sys
import symtable
import tempfile
from symtable import DEF_BOUND, DEF_GLOBAL, DEF_NONLOCAL

LOCAL, GLOBAL_EXPLICIT, GLOBAL_IMPLICIT, FREE, CELL = (symtable.LOCAL, symtable.GLOBAL_EXPLICIT,
                                                       symtable.GLOBAL_IMPLICIT, symtable.FREE,
                                                       symtable.CELL)
import builtins
BUILTINS = set(dir(builtins))


def query(cli, sql):
    out = subprocess.run([cli, "query", "--format", "jsonl", sql], check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def resolution(table, module_table, name):
    if table.get_type() == "module":
        return "global"
    try:
        sym = table.lookup(name)
    except KeyError:
        return None
    flags = sym._Symbol__flags
    scope = sym._Symbol__scope
    if flags & DEF_GLOBAL:
        return "global"
    if flags & DEF_NONLOCAL:
        return "nonlocal"
    if scope in (LOCAL, CELL):
        return "local"
    if scope == FREE:
        return "free"
    # implicit global
    try:
        msym = module_table.lookup(name)
        if msym._Symbol__flags & DEF_BOUND:
            return "global"
    except KeyError:
        pass
    return "builtin" if name in BUILTINS else "unresolved"


def mangle(private, name):
    if private is None or not name.startswith("__") or name.endswith("__") or "." in name:
        return name
    p = private.lstrip("_")
    return "_%s%s" % (p, name) if p else name


class Walker:
    """Walks the ast in symtable's visiting order, keeping the symtable of each Name."""

    def __init__(self, top, future_annotations):
        self.top = top
        self.future = future_annotations
        self.names = []  # (line, col, id, ctx, resolution)
        self.skip = set()  # positions of names symtable does not judge
        self.iters = {}

    def child(self, table, kind_names, lineno):
        it = self.iters.setdefault(id(table), {"used": set()})
        for c in table.get_children():
            if id(c) in it["used"]:
                continue
            if c.get_name() in kind_names and c.get_lineno() == lineno:
                it["used"].add(id(c))
                self.keep = getattr(self, "keep", [])
                self.keep.append(c)
                return c
        raise LookupError("no child table %s at line %d in %s" % (kind_names, lineno, table.get_name()))

    def name(self, node, table, private):
        res = resolution(table, self.top, mangle(private, node.id))
        ctx = {ast.Load: "load", ast.Store: "store", ast.Del: "del"}[type(node.ctx)]
        self.names.append((node.lineno, node.col_offset, node.id, ctx, res))

    def annotation(self, node, table, private):
        if node is None:
            return
        if self.future:
            # 3.11 does not visit stringified annotations: symtable has no verdict on them
            saved, self.unjudged = self.names, []
            self.names = self.unjudged
            self.expr(node, table, private)
            self.names = saved
            for (line, col, *_rest) in self.unjudged:
                self.skip.add((line, col))
        else:
            self.expr(node, table, private)

    def args(self, a, table, private):
        for d in a.defaults:
            self.expr(d, table, private)
        for d in a.kw_defaults:
            if d is not None:
                self.expr(d, table, private)

    def arg_annotations(self, a, table, private):
        for x in a.posonlyargs + a.args + a.kwonlyargs + ([a.vararg] if a.vararg else []) + \
                ([a.kwarg] if a.kwarg else []):
            self.annotation(x.annotation, table, private)

    def stmt(self, s, table, private):
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.args(s.args, table, private)
            self.arg_annotations(s.args, table, private)
            self.annotation(s.returns, table, private)
            for d in s.decorator_list:
                self.expr(d, table, private)
            t = self.child(table, (s.name, mangle(private, s.name)), s.lineno)
            for b in s.body:
                self.stmt(b, t, private)
        elif isinstance(s, ast.ClassDef):
            for b in s.bases:
                self.expr(b, table, private)
            for k in s.keywords:
                self.expr(k.value, table, private)
            for d in s.decorator_list:
                self.expr(d, table, private)
            t = self.child(table, (s.name, mangle(private, s.name)), s.lineno)
            for b in s.body:
                self.stmt(b, t, s.name)
        elif isinstance(s, ast.AnnAssign):
            self.expr(s.target, table, private)
            self.annotation(s.annotation, table, private)
            if s.value is not None:
                self.expr(s.value, table, private)
        else:
            self.generic(s, table, private)

    def comp(self, e, table, private, kind):
        gens = e.generators
        self.expr(gens[0].iter, table, private)
        t = self.child(table, (kind,), e.lineno)
        for i, g in enumerate(gens):
            self.expr(g.target, t, private)
            if i:
                self.expr(g.iter, t, private)
            for c in g.ifs:
                self.expr(c, t, private)
        if isinstance(e, ast.DictComp):
            self.expr(e.key, t, private)
            self.expr(e.value, t, private)
        else:
            self.expr(e.elt, t, private)

    def expr(self, e, table, private):
        if isinstance(e, ast.Name):
            self.name(e, table, private)
        elif isinstance(e, ast.Lambda):
            self.args(e.args, table, private)
            t = self.child(table, ("lambda",), e.lineno)
            self.expr(e.body, t, private)
        elif isinstance(e, ast.ListComp):
            self.comp(e, table, private, "listcomp")
        elif isinstance(e, ast.SetComp):
            self.comp(e, table, private, "setcomp")
        elif isinstance(e, ast.DictComp):
            self.comp(e, table, private, "dictcomp")
        elif isinstance(e, ast.GeneratorExp):
            self.comp(e, table, private, "genexpr")
        else:
            self.generic(e, table, private)

    def generic(self, node, table, private):
        for f, v in ast.iter_fields(node):
            if isinstance(v, list):
                for x in v:
                    if isinstance(x, ast.stmt):
                        self.stmt(x, table, private)
                    elif isinstance(x, ast.AST):
                        self.expr(x, table, private)
            elif isinstance(v, ast.stmt):
                self.stmt(v, table, private)
            elif isinstance(v, ast.AST):
                self.expr(v, table, private)


def defs_of(tree):
    out = []
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            kind = "class" if isinstance(n, ast.ClassDef) else "lambda" if isinstance(n, ast.Lambda) else "function"
            out.append((n.lineno, n.col_offset, n.end_lineno, n.end_col_offset, kind))
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    cli, root = args[0], args[1]
    out = None
    extract_cmd = [cli, "extract"]
    i = 2
    while i < len(args):
        if args[i] == "--out":
            out = args[i + 1]; i += 2
        elif args[i] == "--extract-cmd":
            extract_cmd = args[i + 1].split(); i += 2
        else:
            print("unknown argument", args[i]); return 2
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory()
        out = tmp.name
    subprocess.run(extract_cmd + [root, "-o", out, "--quiet"], check=True)
    ev = os.path.join(out, "evidence")
    rows = query(cli, "SELECT file_id, path, parse_error_count FROM read_delta('%s/repo_files') "
                      "WHERE error IS NULL" % ev)
    files = {r["file_id"]: r["path"] for r in rows}
    ts_errors = {r["file_id"] for r in rows if r["parse_error_count"]}
    grammar = []
    refs = {}
    for r in query(cli, "SELECT file_id, name, ctx, start_line, start_col, resolution FROM "
                        "read_delta('%s/refs')" % ev):
        refs.setdefault(r["file_id"], {})[(r["start_line"], r["start_col"])] = r
    defs = {}
    docs = {}
    for r in query(cli, "SELECT file_id, kind, start_line, start_col, end_line, end_col, docstring FROM "
                        "read_delta('%s/defs') WHERE kind IN ('function','class','lambda','module')" % ev):
        docs[(r["file_id"], r["start_line"], r["start_col"], r["kind"])] = r["docstring"]
        if r["kind"] != "module":
            defs.setdefault(r["file_id"], set()).add((r["start_line"], r["start_col"], r["end_line"], r["end_col"], r["kind"]))
    n_defs = n_refs = bad_defs = bad_refs = skipped = n_docs = bad_docs = 0
    shown = 0
    for fid, path in sorted(files.items(), key=lambda kv: kv[1]):
        full = os.path.join(root, path)
        try:
            src = open(full, "rb").read()
            tree = ast.parse(src, full)
            top = symtable.symtable(src.decode(_encoding(src)) if False else _text(src), full, "exec")
        except (SyntaxError, ValueError, UnicodeDecodeError, LookupError, RecursionError, MemoryError):
            skipped += 1
            continue
        if fid in ts_errors:
            # CPython compiles it but the tree-sitter grammar does not: not an extractor verdict
            grammar.append(path)
            print("GRAMMAR tree-sitter-python fails on %s (CPython accepts it): not compared" % path)
            continue
        future = any(isinstance(s, ast.ImportFrom) and s.module == "__future__" and
                     any(a.name == "annotations" for a in s.names) for s in tree.body)
        # definitions
        want = set(defs_of(tree))
        got = defs.get(fid, set())
        n_defs += len(want)
        for d in sorted(want - got):
            bad_defs += 1
            if shown < 200:
                print("DEF missing/different %s:%d:%d-%d:%d %s" % (path, *d)); shown += 1
        for d in sorted(got - want):
            bad_defs += 1
            if shown < 200:
                print("DEF extra %s:%d:%d-%d:%d %s" % (path, *d)); shown += 1
        # docstrings (the literal's value, uncleaned)
        for n in [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]:
            kind = "module" if n is tree else "class" if isinstance(n, ast.ClassDef) else "function"
            key = (fid, 1, 0, kind) if n is tree else (fid, n.lineno, n.col_offset, kind)
            want_doc = ast.get_docstring(n, clean=False)
            n_docs += 1
            if key in docs and docs[key] != want_doc:
                bad_docs += 1
                if shown < 200:
                    print("DOC %s:%d:%d %s: %r  extractor: %r" % (path, key[1], key[2], kind,
                          (want_doc or "")[:60], (docs[key] or "")[:60])); shown += 1
        # names
        w = Walker(top, future)
        try:
            for s in tree.body:
                w.stmt(s, top, None)
        except LookupError as e:
            print("ORACLE cannot map scopes in %s: %s" % (path, e))
            bad_refs += 1
            continue
        fr = refs.get(fid, {})
        seen = set(w.skip)
        for (line, col, name, ctx, res) in w.names:
            n_refs += 1
            r = fr.get((line, col))
            seen.add((line, col))
            if r is None or r["name"] != name or r["ctx"] != ctx or r["resolution"] != res:
                bad_refs += 1
                if shown < 200:
                    print("REF %s:%d:%d %s %s %s  extractor: %s" % (path, line, col, name, ctx, res,
                          None if r is None else (r["name"], r["ctx"], r["resolution"]))); shown += 1
        for k, r in fr.items():
            if k not in seen:
                bad_refs += 1
                if shown < 200:
                    print("REF extra %s:%d:%d %s %s %s" % (path, k[0], k[1], r["name"], r["ctx"], r["resolution"])); shown += 1
    print("oracle: files %d compared (%d not compiled by CPython, %d not parsed by the grammar), "
          "defs %d (%d disagree), docstrings %d (%d disagree), names %d (%d disagree)" %
          (len(files) - skipped - len(grammar), skipped, len(grammar), n_defs, bad_defs, n_docs, bad_docs,
           n_refs, bad_refs))
    return 1 if bad_defs or bad_refs or bad_docs else 0


def _text(src):
    import io, tokenize
    enc, _ = tokenize.detect_encoding(io.BytesIO(src).readline)
    return src.decode(enc)


if __name__ == "__main__":
    sys.exit(main())
