"""Module doc."""
import os.path as osp, sys
from . import sibling
from ..pkg import thing as th
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from collections import OrderedDict
try:
    import json
except ImportError:
    json = None

CONST = 1


def deco(f):
    return f


@deco
async def outer(a, /, b: int = 2, *args, c, d=3, **kw) -> int:
    """Outer doc."""
    x = 1

    def inner():
        nonlocal x
        x += 1
        return x

    global CONST
    CONST = len(args)
    return inner() + [y for y in args if y] + (lambda q: q + b)(a)  # trailing


class Base:
    pass


class Child(Base, metaclass=type):
    attr = 1

    def method(self):
        return self.attr, __class__


total = (n := 10) + sum(z for z in range(n))
match total:
    case {"k": v, **rest}:
        pass
    case Base(x=px) as bb:
        pass
    case _:
        pass
s = f"{total!r:>{CONST}}"
ﬁle = 1
print(ﬁle, undefined_name)
