# Name bindings of every kind, with multi-byte text before spans: "ü€😀".
import os, os.path as osp
from collections import *
from .sibling import (a as alias_a, b)

données = "ü€😀"; après = données


class Outer:
    __private = 1
    attr = __private

    def method(self, __arg=__private):
        return self.__private, __arg, attr_global

    class Inner:
        x = attr


def scopes(p, *a, k=1, **kw):
    local = p
    try:
        pass
    except (ValueError, KeyError) as err:
        local = err
    with open(p) as fh, open(p) as (g1, g2):
        fh.read()
    for i, (j, k2) in enumerate(a):
        del i
    while (n := len(a)) > 10:
        pass
    total = [m for m in a if (last := m)]
    print(last, n, total, k2, j)
    gen = (q * p for q in range(3) for r in range(q))
    dct = {key: val for key, val in kw.items()}
    st = {e for e in a}

    def closure():
        nonlocal local
        local = 2
        return local, p, closure

    global G
    G = lambda y, *z, w=local: (y, z, w, p)
    match p:
        case [1, *rest]:
            return rest
        case {"k": v, **others}:
            return v, others
        case Outer(attr=av) as whole:
            return av, whole
        case osp.sep | "x":
            return None
        case capture if capture:
            return capture
    return f"{p!r:>{k}} {local=}", kw, undefined


class Meta(type):
    def __new__(mcs, name, bases, ns, **kwargs):
        return super().__new__(mcs, name, bases, ns)


class UsesMeta(Outer, metaclass=Meta):
    z = [attr_global for _ in range(2)]
    w = [y for y in range(3) if y in z]

    def m(self):
        return __class__, self.z


attr_global = 1
async def agen():
    async with os as ctx:
        async for item in ctx:
            yield await item
