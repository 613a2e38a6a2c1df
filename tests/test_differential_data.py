"""Differential test of ``tr.utils.data`` against ``torch.utils.data``: Hypothesis draws one
use of it (a ``DataLoader`` over a map-style or an iterable dataset, ``default_collate`` or
``default_convert`` of nested samples, a sampler, a dataset wrapper, ``random_split``, the
loader's arguments, and a few loaders with worker processes) with random but meaningful
arguments, and now and then invalid ones. The same code runs with ``m`` as ``torch`` and as
``tr``; each case builds its samples from NumPy arrays drawn from a seeded generator, so both
see the same data.

Compared: whether building raises, then, part by part (``len``, the batches, an index, a
second epoch), whether each part raises (exception types may differ) and what it gives: every
container's type (a namedtuple's name, a dict's keys), every tensor's dtype, shape and values,
and the warnings raised (by category). Where a result is drawn at random, tr's generator
(PCG64) cannot give torch's numbers (docs/pytorch.md): the case compares what the draw cannot
change (how many, the structure of each batch, the multiset of indices or values, that indices
are in range). Run deeper with ``HYPOTHESIS_PROFILE=thorough`` or ``DATA_FUZZ_FACTOR=N``.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter, OrderedDict, namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr

from ._differential import one_in, registry

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

Pair = namedtuple("Pair", ["a", "b"])
Triple = namedtuple("Triple", ["x", "y", "z"])

RAN: Counter = Counter()


class Raised:
    """A part of a case that raised."""

    def __init__(self, error: BaseException):
        self.error = error

    def __repr__(self):
        return f"Raised({self.error!r})"


def attempt(f: Callable[[], Any]) -> Any:
    try:
        return f()
    except Exception as e:  # noqa: BLE001
        return Raised(e)


@dataclass
class Case:
    """``call(m)`` builds with ``m`` (``torch`` or ``tr``) and returns a dict of parts, each a
    value or a ``Raised``; ``check`` says how each part is compared (``exact`` by default,
    ``multiset`` where a random order cannot match, or a function of (ours, theirs) taking the
    canonical forms)."""

    name: str
    call: Callable[[Any], dict]
    check: dict = field(default_factory=dict)
    warns: bool = True  # compare the warnings raised
    # ours refuses when made what torch refuses in a later part (a documented difference)
    early: bool = False


GENS, gen = registry()  # the case generators, by family


def bad(draw) -> bool:
    return one_in(draw, 10)


def D(m):
    return m.utils.data


# ---- samples -------------------------------------------------------------------------------


class _T:
    """A tensor to be: built with ``m.tensor`` on each side from the same array."""

    def __init__(self, a: np.ndarray):
        self.a = a

    def __repr__(self):
        return f"T({self.a.dtype}{list(self.a.shape)})"


def build(m, x):
    """A drawn sample with its tensors made by ``m``."""
    if isinstance(x, _T):
        return m.tensor(x.a.copy())
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(build(m, v) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(build(m, v) for v in x)
    if isinstance(x, dict):
        return type(x)((k, build(m, v)) for k, v in x.items())
    return x


TENSOR_DTYPES = ["float32", "float64", "int64", "int32", "bool", "uint8", "float16"]
NP_SCALARS = [np.float32, np.float64, np.int64, np.int32, np.int8, np.uint8, np.complex64,
              np.bool_]


def template(draw, depth: int = 0, uniform: bool = False):
    """The shape of a sample: a leaf kind, or a container of templates."""
    leaves = ["tensor", "ndarray", "npscalar", "int", "float", "bool", "str", "bytes",
              "complex", "none"] + \
        ([] if uniform else ["number"])
    containers = ["tuple", "list", "dict", "namedtuple", "ordereddict"] if depth < 2 else []
    kind = draw(st.sampled_from(leaves + containers + (["tensor"] if depth else [])))
    if kind in ("tensor", "ndarray"):
        dt = draw(st.sampled_from(TENSOR_DTYPES + (["<U2"] if kind == "ndarray" else [])))
        shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
        # now and then a sample of another shape (the error) or dtype (promotion)
        vary = "" if uniform else draw(st.sampled_from(["", "", "", "", "", "shape", "dtype"]))
        return (kind, dt, shape, vary)
    if kind == "npscalar":
        return (kind, draw(st.sampled_from(range(len(NP_SCALARS)))), bad(draw) and not uniform)
    if kind in ("tuple", "list"):
        return (kind, [template(draw, depth + 1, uniform)
                       for _ in range(draw(st.integers(0, 3)))],
                bad(draw) and not uniform)  # a sample of another length
    if kind in ("dict", "ordereddict"):
        keys = draw(st.lists(st.sampled_from("abcd"), min_size=0, max_size=3, unique=True))
        return (kind, {k: template(draw, depth + 1, uniform) for k in keys})
    if kind == "namedtuple":
        n = draw(st.sampled_from([2, 3]))
        return (kind, [template(draw, depth + 1, uniform) for _ in range(n)])
    return (kind,)


def instance(t, rng: np.random.Generator, i: int):
    """Sample i of template ``t``."""
    kind = t[0]
    if kind in ("tensor", "ndarray"):
        _, dt, shape, vary = t
        if vary == "shape" and i % 2:
            shape = shape + (1,)
        if vary == "dtype" and i % 2:
            dt = "float64" if dt != "float64" else "float32"
        if dt == "bool":
            a = rng.random(shape) < 0.5
        elif dt == "<U2":  # strings: collate refuses them, convert leaves them
            a = rng.integers(0, 99, shape).astype(dt)
        elif dt in ("uint8",):
            a = rng.integers(0, 200, shape).astype(dt)
        elif dt.startswith("int"):
            a = rng.integers(-50, 50, shape).astype(dt)
        else:
            a = (rng.integers(-8, 9, shape) / 4).astype(dt)
        return _T(a) if kind == "tensor" else a
    if kind == "npscalar":
        k = (t[1] + (i % 2 if t[2] else 0)) % len(NP_SCALARS)
        return NP_SCALARS[k](rng.integers(0, 5))
    if kind == "int":
        return int(rng.integers(-9, 10))
    if kind == "float":
        return float(rng.integers(-8, 9) / 4)
    if kind == "bool":
        return bool(rng.random() < 0.5)
    if kind == "complex":  # no rule batches Python complex numbers: refused
        return complex(int(rng.integers(-3, 4)), 1)
    if kind == "none":
        return None
    if kind == "number":  # ints, floats and bools in one field: the values decide the dtype
        return [int(rng.integers(-3, 4)), float(rng.integers(-8, 9) / 4),
                bool(rng.random() < 0.5)][int(rng.integers(0, 3))]
    if kind == "str":
        return "s" * int(rng.integers(0, 3)) + str(i)
    if kind == "bytes":
        return b"b" + bytes([65 + i % 26])
    if kind in ("tuple", "list"):
        parts = [instance(c, rng, i) for c in t[1]]
        if t[2] and i % 2:
            parts = parts[:-1] if parts else [1]
        return tuple(parts) if kind == "tuple" else parts
    if kind in ("dict", "ordereddict"):
        d = {k: instance(c, rng, i) for k, c in t[1].items()}
        return OrderedDict(d) if kind == "ordereddict" else d
    if kind == "namedtuple":
        parts = [instance(c, rng, i) for c in t[1]]
        return Pair(*parts) if len(parts) == 2 else Triple(*parts)
    raise AssertionError(kind)


def samples(draw, n: int, uniform: bool = False):
    """``n`` samples of one drawn template; ``uniform``: all of one structure, shape and
    dtype (where the order is random, which samples share a batch cannot matter)."""
    t = template(draw, uniform=uniform)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    out = [instance(t, rng, i) for i in range(n)]
    note(f"samples: {out!r}")
    return out


# ---- canonical forms -----------------------------------------------------------------------


# torch's errors where torch is plainly wrong: as_tensor of NumPy numbers among which a
# np.bool_ fails to read the bool as an integer (torch.tensor([True, 2]) is fine)
TORCH_BUGS = ("'numpy.bool' object cannot be interpreted as an integer",)


def canon(x) -> Any:
    """``x`` as nested tuples that compare equal exactly where torch's and ours agree: types,
    keys, dtypes, shapes and values."""
    if isinstance(x, Raised):
        return ("raised", "torch bug") if str(x.error).startswith(TORCH_BUGS) else ("raised",)
    if isinstance(x, torch.Tensor):
        a = x.detach().cpu().numpy()
        return ("tensor", str(x.dtype).removeprefix("torch."), tuple(x.shape),
                tuple(a.ravel().tolist()))
    if isinstance(x, tr.Tensor):
        a = x.numpy()
        return ("tensor", str(x.dtype), tuple(x.shape), tuple(a.ravel().tolist()))
    if isinstance(x, np.ndarray):
        return ("ndarray", str(x.dtype), x.shape, tuple(x.ravel().tolist()))
    if isinstance(x, np.generic):
        return (f"np.{type(x).__name__}", x.item())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (f"namedtuple {type(x).__name__}", tuple(canon(v) for v in x))
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(canon(v) for v in x))
    if isinstance(x, dict):
        return (f"{type(x).__name__} mapping", tuple((k, canon(v)) for k, v in x.items()))
    if x is None or isinstance(x, (bool, int, float, str, bytes)):
        return (type(x).__name__, x)
    return ("object", type(x).__name__)


def _kind(c) -> str:
    tag = c[0]
    if tag in ("tensor", "ndarray"):
        return "array"
    if tag.endswith(" mapping"):
        return "mapping"
    if tag in ("list", "tuple") or tag.startswith("namedtuple"):
        return "sequence"
    return "scalar"


def strip(c) -> Any:
    """A canonical form without its values: the structure a random order cannot change."""
    kind = _kind(c)
    if kind == "array":
        return c[:3]
    if kind == "mapping":
        return (c[0], tuple((k, strip(v)) for k, v in c[1]))
    if kind == "sequence":
        return (c[0], tuple(strip(v) for v in c[1]))
    return c[:1]


def leaves(c) -> list:
    """Every value in a canonical form, as reprs (sortable whatever their types)."""
    kind = _kind(c)
    if kind == "array":
        return [repr(v) for v in c[3]]
    if kind == "mapping":
        return [x for _, v in c[1] for x in leaves(v)]
    if kind == "sequence":
        return [x for v in c[1] for x in leaves(v)]
    return [repr(c[1:])]


def multiset(ours, theirs, name):
    """The same structure and the same values in any order (a shuffle's batches)."""
    assert strip(ours) == strip(theirs), f"{name}: structure\nours  {strip(ours)}\ntorch " \
        f"{strip(theirs)}"
    assert sorted(leaves(ours)) == sorted(leaves(theirs)), f"{name}: values\nours  {ours}\n" \
        f"torch {theirs}"


def structure(ours, theirs, name):
    """The same structure, whatever the values (a random draw of some of the samples)."""
    assert strip(ours) == strip(theirs), f"{name}: structure\nours  {strip(ours)}\ntorch " \
        f"{strip(theirs)}"


# ---- DataLoader over a map-style dataset ---------------------------------------------------


def map_dataset(m, items, getitems: bool = False):
    """A map-style dataset of ``items`` (drawn samples), made with ``m``'s base class; with
    ``getitems``, one that fetches a batch itself (and marks it, so that the path shows)."""

    class Items(D(m).Dataset):
        def __init__(self):
            self.items = [build(m, s) for s in items]

        def __getitem__(self, i):
            return self.items[i]

        def __len__(self):
            return len(self.items)

    class Batched(Items):
        def __getitems__(self, indices):
            return [("many", self.items[i]) for i in indices]

    return Batched() if getitems else Items()


def tensor_dataset(m, arrays):
    return D(m).TensorDataset(*(m.tensor(a.copy()) for a in arrays))


def tensor_arrays(draw, n):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(1, 3))
    arrays = []
    for _ in range(k):
        dt = draw(st.sampled_from(["float32", "int64", "float64", "bool"]))
        shape = (n,) + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        arrays.append(rng.integers(-5, 5, shape).astype(dt))
    return arrays


def dataset_for_loader(draw, n, uniform):
    """A map-style dataset, as a function of ``m``: drawn samples, a TensorDataset (which our
    loader reads by a gather), a Subset or a ConcatDataset of one, or a StackDataset."""
    kind = draw(st.sampled_from(["items", "items", "getitems", "tensor", "subset", "concat",
                                 "stack"]))
    if kind in ("items", "getitems"):
        items = samples(draw, n, uniform)
        return kind, lambda m: map_dataset(m, items, kind == "getitems")
    arrays = tensor_arrays(draw, n)
    if kind == "tensor":
        return kind, lambda m: tensor_dataset(m, arrays)
    if kind == "subset":
        idx = draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n)) if n else []
        # a Subset of a Subset now and then (random_split of a split)
        deep = draw(st.booleans())
        return kind, lambda m: D(m).Subset(
            D(m).Subset(tensor_dataset(m, arrays), list(range(n))) if deep else
            tensor_dataset(m, arrays), idx)
    if kind == "concat":
        return kind, lambda m: tensor_dataset(m, arrays) + tensor_dataset(m, arrays)
    items = samples(draw, n, uniform)
    named = draw(st.booleans())
    return kind, lambda m: (D(m).StackDataset(x=tensor_dataset(m, arrays),
                                              y=map_dataset(m, items)) if named else
                            D(m).StackDataset(tensor_dataset(m, arrays),
                                              map_dataset(m, items, True)))


def collate_fn(draw):
    kind = draw(st.sampled_from(["none", "none", "none", "identity", "default", "count"]))
    if kind == "none":
        return kind, lambda m: None
    if kind == "identity":
        return kind, lambda m: (lambda b: b)
    if kind == "default":
        return kind, lambda m: D(m).default_collate
    return kind, lambda m: (lambda b: len(b))


def sized_of(n):
    return list(range(n))


@gen("loader")
def _loader(draw):
    n = draw(st.integers(0, 7))
    batch_size: Any = draw(st.sampled_from([None, 1, 1, 2, 3, 4]))
    if bad(draw):
        batch_size = draw(st.sampled_from([0, -1, 2.0, True]))
    shuffle = draw(st.booleans())
    drop_last = draw(st.booleans())
    mode = draw(st.sampled_from(["plain", "plain", "sampler", "batch_sampler"]))
    seed = draw(st.integers(0, 2**32 - 1))
    ckind, coll = collate_fn(draw)
    pin = draw(st.booleans())
    random = shuffle
    kw: dict = {}
    skind = ""
    if mode == "sampler":
        skind = draw(st.sampled_from(["list", "sequential", "random", "subset_random",
                                      "batch_list"]))
        if not bad(draw):
            shuffle = False
        if skind == "list":
            idx: list = draw(st.lists(st.integers(-n, n - 1 + bad(draw)), max_size=8)) \
                if n else []
            if idx and bad(draw):
                idx[0] = float(idx[0])  # not an index
            once = draw(st.booleans())  # a generator: no len, and one epoch only
            kw["sampler"] = lambda m: (i for i in idx) if once else idx
        elif skind == "sequential":
            kw["sampler"] = lambda m, ds: D(m).SequentialSampler(ds)
        elif skind == "random":
            repl = draw(st.booleans())
            ns = draw(st.sampled_from([None, None, 1, 3, 9]))
            random = "subset" if repl or (ns or n) % max(n, 1) else True
            kw["sampler"] = lambda m, ds: D(m).RandomSampler(
                ds, replacement=repl, num_samples=ns, generator=m.Generator().manual_seed(seed))
        elif skind == "subset_random":
            idx = draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=6)) if n else []
            random = True
            kw["sampler"] = lambda m: D(m).SubsetRandomSampler(
                idx, generator=m.Generator().manual_seed(seed))
        else:  # lists of indices as the sampler, unbatched: each sample a batch, as torch's
            batch_size = None
            drop_last = drop_last and bad(draw)
            lists = draw(st.lists(st.lists(st.integers(0, max(n - 1, 0)), min_size=1,
                                           max_size=3), max_size=4)) if n else []
            kw["sampler"] = lambda m: lists
    elif mode == "batch_sampler":
        lists = draw(st.lists(st.lists(st.integers(0, max(n - 1, 0)), min_size=1, max_size=3),
                              max_size=4)) if n else []
        as_sampler = draw(st.booleans())
        bs, dl = draw(st.integers(1, 3)), draw(st.booleans())
        if as_sampler:
            kw["batch_sampler"] = lambda m, ds: D(m).BatchSampler(D(m).SequentialSampler(ds),
                                                                   bs, dl)
        else:
            kw["batch_sampler"] = lambda m: lists
        clash = draw(st.sampled_from(["batch_size", "shuffle", "sampler", "drop_last"])) \
            if bad(draw) else ""
        batch_size = 2 if clash == "batch_size" else draw(st.sampled_from([1, 1, None]))
        shuffle = clash == "shuffle"
        drop_last = clash == "drop_last"
        if clash == "sampler":
            kw["sampler"] = lambda m: list(range(n))
        random = False
    dkind, make = dataset_for_loader(draw, n, uniform=bool(random))
    note(f"dataset {dkind} n={n}, batch_size={batch_size!r} shuffle={shuffle} "
         f"drop_last={drop_last} mode={mode} {skind} collate={ckind} pin={pin}")
    second = draw(st.booleans())

    def call(m):
        ds = make(m)
        args = {}
        for k, f in kw.items():
            args[k] = f(m, ds) if f.__code__.co_argcount == 2 else f(m)
        gen_ = m.Generator().manual_seed(seed)
        loader = D(m).DataLoader(ds, batch_size=batch_size, shuffle=shuffle,
                                 drop_last=drop_last, collate_fn=coll(m), pin_memory=pin,
                                 generator=gen_, **args)
        out = {"len": attempt(lambda: len(loader)), "batches": attempt(lambda: list(loader)),
               "len(iter)": attempt(lambda: len(iter(loader))),
               "attributes": [loader.batch_size, loader.drop_last,
                              type(loader.sampler).__name__,
                              type(loader.batch_sampler).__name__]}
        if second:
            out["second epoch"] = attempt(lambda: list(loader))
        return out

    check = {}
    if random and drop_last:  # which samples the last, dropped batch held is random
        random = "subset"
    if random == "subset":  # which samples are drawn is random too: the structure alone
        check = {"batches": structure, "second epoch": structure}
    elif random:
        check = {"batches": multiset, "second epoch": multiset}
    return Case(f"DataLoader {dkind} {mode} {skind}".strip(), call, check)


# ---- DataLoader over an iterable dataset ---------------------------------------------------


def stream(m, items, length=None, reps: int = 1):
    """An iterable dataset of ``items``; ``length`` (where not None) its ``__len__``."""

    class Stream(D(m).IterableDataset):
        def __iter__(self):
            for _ in range(reps):
                for s in items:
                    yield build(m, s)

    class Sized(Stream):
        def __len__(self):
            return length

    return Stream() if length is None else Sized()


@gen("iterable")
def _iterable(draw):
    n = draw(st.integers(0, 7))
    items = samples(draw, n)
    length = draw(st.sampled_from([None, None, 0, 1, n, n, n + 2, max(n - 2, 0)]))
    chain = draw(st.sampled_from(["", "", "add", "chain"]))
    batch_size = draw(st.sampled_from([None, 1, 2, 3]))
    drop_last = draw(st.booleans()) and batch_size is not None or bad(draw)
    ckind, coll = collate_fn(draw)
    refused = draw(st.sampled_from(["shuffle", "sampler", "batch_sampler", "shuffle_false"])) \
        if bad(draw) else ""
    ask_len = draw(st.booleans())
    note(f"n={n} length={length} chain={chain!r} batch_size={batch_size} drop_last={drop_last}"
         f" collate={ckind} refused={refused!r} ask_len={ask_len}")

    def call(m):
        ds = stream(m, items, length)
        if chain == "add":
            ds = ds + stream(m, items[:2], None if length is None else min(length, 2))
        elif chain == "chain":
            ds = D(m).ChainDataset([ds, stream(m, items[::-1], length)])
        kw: dict = {}
        if refused == "shuffle":
            kw["shuffle"] = True
        elif refused == "shuffle_false":
            kw["shuffle"] = False
        elif refused == "sampler":
            kw["sampler"] = [0, 1]
        elif refused == "batch_sampler":
            kw["batch_sampler"] = [[0]]
        loader = D(m).DataLoader(ds, batch_size=batch_size, drop_last=drop_last,
                                 collate_fn=coll(m), **kw)
        out = {"attributes": [loader.batch_size, loader.drop_last,
                              type(loader.sampler).__name__,
                              type(loader.batch_sampler).__name__]}
        if ask_len:
            out["len"] = attempt(lambda: len(loader))
        out["batches"] = attempt(lambda: list(loader))
        out["dataset len"] = attempt(lambda: len(ds))
        return out

    return Case(f"iterable {chain}", call)


# ---- default_collate and default_convert ---------------------------------------------------


@gen("collate")
def _collate(draw):
    n = draw(st.integers(1, 4))
    batch = samples(draw, n)
    if bad(draw):  # a sample of another kind altogether
        other = samples(draw, 1)[0]
        if isinstance(other, _T) and other.a.size == 1:
            # (0-d: torch.tensor([7, tensor([1.5])]) reads a one-element tensor of any
            # shape as a number, where ours refuses a list of inhomogeneous shape)
            other = _T(other.a.reshape(()))
        batch[draw(st.integers(0, n - 1))] = other
    fn = draw(st.sampled_from(["default_collate", "default_convert"]))
    whole = fn == "default_convert" and draw(st.booleans())  # the batch itself, as a list

    def call(m):
        f = getattr(D(m), fn)
        if fn == "default_collate":
            return {"out": attempt(lambda: f([build(m, s) for s in batch]))}
        if whole:
            return {"out": attempt(lambda: f([build(m, s) for s in batch]))}
        return {"out": attempt(lambda: f(build(m, batch[0])))}

    return Case(fn, call)


# ---- samplers ------------------------------------------------------------------------------


def in_range(n):
    def check(ours, theirs, name):
        assert strip(ours) == strip(theirs), f"{name}: ours {ours}, torch {theirs}"
        for c in (ours, theirs):
            if c[0] == "list":
                assert all(0 <= v[1] < n for v in c[1]), f"{name}: out of range: {c}"
    return check


@gen("sampler")
def _sampler(draw):
    n = draw(st.integers(0, 8))
    kind = draw(st.sampled_from(["sequential", "random", "subset_random", "weighted", "batch",
                                 "distributed"]))
    seed = draw(st.integers(0, 2**32 - 1))
    check: dict = {}
    name = kind
    early = False
    if kind == "sequential":
        def make(m):
            return D(m).SequentialSampler(sized_of(n))
    elif kind == "random":
        repl: Any = draw(st.booleans())
        ns: Any = draw(st.sampled_from([None, None, 1, 2, n, 2 * n, 2 * n + 1]))
        if bad(draw):
            # (not True: torch's RandomSampler takes it as 1, where its other samplers refuse
            # a bool as a count, and so do ours)
            ns = draw(st.sampled_from([0, -1, 2.0]))
        if bad(draw):
            repl = draw(st.sampled_from([0, 1, None]))
        name = f"random replacement={repl!r} num_samples={ns!r}"

        def make(m):
            return D(m).RandomSampler(sized_of(n), replacement=repl, num_samples=ns,
                                      generator=m.Generator().manual_seed(seed))
        k = n if ns is None else ns
        # without replacement whole permutations (then part of one) are drawn
        if repl is False and isinstance(k, int) and n and k % n == 0:
            check = {"list": multiset, "again": multiset}
        else:
            check = {"list": in_range(n), "again": in_range(n)}
    elif kind == "subset_random":
        idx = draw(st.lists(st.integers(0, 9), max_size=6))

        def make(m):
            return D(m).SubsetRandomSampler(idx, generator=m.Generator().manual_seed(seed))
        check = {"list": multiset, "again": multiset}
    elif kind == "weighted":
        w: Any = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=max(n, 1),
                               max_size=max(n, 1)))
        if bad(draw):
            w = draw(st.sampled_from([[1.0, -1.0], [[1.0, 2.0]], [0.0, 0.0], [float("nan"), 1.0],
                                      [float("inf"), 1.0]]))
        ns = draw(st.integers(1, 5))
        repl = draw(st.booleans())
        if repl is False and isinstance(w[0], float) and 0 < np.count_nonzero(w) < ns:
            # without replacement, torch's multinomial goes on to draw indices of weight 0
            # once those above 0 are used up, where ours refuses: drawn within them
            ns = int(np.count_nonzero(w))
        if bad(draw):
            ns = draw(st.sampled_from([0, -1, 2.0, True]))
        if bad(draw):
            repl = draw(st.sampled_from([0, 1, None]))
        name = f"weighted replacement={repl!r}"

        def make(m):
            return D(m).WeightedRandomSampler(w, ns, replacement=repl,
                                              generator=m.Generator().manual_seed(seed))

        def weighted(ours, theirs, name):
            assert strip(ours) == strip(theirs), f"{name}: ours {ours}, torch {theirs}"
            for c in (ours, theirs):
                if c[0] == "list":
                    drawn = [v[1] for v in c[1]]
                    assert all(w[i] > 0 for i in drawn), f"{name}: weight 0 drawn: {c}"
                    if repl is False:
                        assert len(set(drawn)) == len(drawn), f"{name}: repeated: {c}"
        check = {"list": weighted, "again": weighted}
        early = True  # bad weights: ours refuses them when made, torch's when it draws
    elif kind == "batch":
        bs: Any = draw(st.integers(1, 4))
        if bad(draw):
            bs = draw(st.sampled_from([0, -1, 2.0, True, None]))
        dl: Any = draw(st.booleans())
        if bad(draw):
            dl = draw(st.sampled_from([0, 1, None]))
        src = draw(st.sampled_from(["sequential", "list", "range"]))
        name = f"batch from {src}"

        def make(m):
            s = {"sequential": D(m).SequentialSampler(sized_of(n)), "list": list(range(n))[::-1],
                 "range": range(n)}[src]
            return D(m).BatchSampler(s, bs, dl)
    else:
        r = draw(st.integers(1, 4))
        rank = draw(st.integers(0, r - 1))
        if bad(draw):
            rank = draw(st.sampled_from([-1, r]))
        shuffle, dl = draw(st.booleans()), draw(st.booleans())
        epoch = draw(st.integers(0, 3))
        name = f"distributed shuffle={shuffle} drop_last={dl}"

        def make(m):
            return D(m).DistributedSampler(sized_of(n), num_replicas=r, rank=rank,
                                           shuffle=shuffle, seed=seed % 1000, drop_last=dl)

    def call(m):
        s = make(m)
        out = {"len": attempt(lambda: len(s)), "list": attempt(lambda: list(s))}
        if kind == "distributed":
            s.set_epoch(epoch)
        out["again"] = attempt(lambda: list(s))
        for a in ("num_samples", "total_size", "batch_size", "drop_last", "replacement"):
            if hasattr(s, a) and not isinstance(s, D(m).SubsetRandomSampler):
                out[a] = getattr(s, a)
        return out

    return Case(name, call, check, early=early)


# ---- datasets ------------------------------------------------------------------------------


def index_draw(draw, n):
    return draw(st.lists(st.integers(-n - 2, n + 1), min_size=1, max_size=4))


@gen("dataset")
def _dataset(draw):
    kind = draw(st.sampled_from(["tensor", "concat", "subset", "chain", "stack",
                                 "random_split", "add"]))
    n = draw(st.integers(0, 5))
    check: dict = {}
    name = kind
    if kind == "tensor":
        arrays = tensor_arrays(draw, n)
        if bad(draw):
            arrays[-1] = arrays[-1][:max(n - 1, 0)] if n else arrays[-1][None, :1]
        if draw(st.integers(0, 19)) == 0:
            arrays.append(np.zeros((), np.float32))  # a 0-d tensor
        idx = index_draw(draw, n)
        # (no tensors at all: torch's TensorDataset() is made and fails at len; ours
        # refuses to make it, and neither is of use)

        def call(m):
            ds = tensor_dataset(m, arrays)
            out = {"len": attempt(lambda: len(ds))}
            for i in idx:
                out[f"[{i}]"] = attempt(lambda i=i: ds[i])
            out["[list]"] = attempt(lambda: ds[[j for j in idx if -n <= j < n]])
            out["[slice]"] = attempt(lambda: ds[1:3])
            return out
    elif kind == "concat":
        sizes = draw(st.lists(st.integers(0, 3), min_size=0 if bad(draw) else 1, max_size=3))
        items = samples(draw, sum(sizes))
        idx = index_draw(draw, sum(sizes))
        lists = draw(st.booleans())  # plain lists as datasets, as torch allows
        streamed = bad(draw)  # an iterable dataset among them: refused

        def call(m):
            parts, at = [], 0
            for s in sizes:
                parts.append(list(build(m, items[at:at + s])) if lists else
                             map_dataset(m, items[at:at + s]))
                at += s
            if streamed:
                parts.append(stream(m, items, 1))
            ds = D(m).ConcatDataset(parts)
            out = {"len": attempt(lambda: len(ds)), "cumulative_sizes": ds.cumulative_sizes}
            for i in idx:
                out[f"[{i}]"] = attempt(lambda i=i: ds[i])
            return out
    elif kind == "subset":
        items = samples(draw, n)
        sub = draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=4)) if n else []
        idx = index_draw(draw, len(sub))
        gi = draw(st.booleans())

        def call(m):
            ds = D(m).Subset(map_dataset(m, items, gi), sub)
            out = {"len": attempt(lambda: len(ds))}
            for i in idx:
                out[f"[{i}]"] = attempt(lambda i=i: ds[i])
            ok = [j for j in idx if -len(sub) <= j < len(sub)]
            out["[list]"] = attempt(lambda: ds[ok])
            out["__getitems__"] = attempt(lambda: ds.__getitems__(ok))
            return out
    elif kind == "chain":
        items = samples(draw, n)
        lens = [draw(st.sampled_from([None, n])) for _ in range(2)]
        mapped = bad(draw)

        def call(m):
            parts = [stream(m, items, lens[0]), map_dataset(m, items) if mapped else
                     stream(m, items[:2], lens[1])]
            ds = D(m).ChainDataset(parts)
            return {"list": attempt(lambda: list(ds)), "len": attempt(lambda: len(ds))}
    elif kind == "stack":
        arrays = tensor_arrays(draw, n)
        items = samples(draw, n + (1 if bad(draw) else 0))
        named = draw(st.booleans())
        both = bad(draw)
        idx = index_draw(draw, n)
        gi = draw(st.booleans())

        def call(m):
            a, b = tensor_dataset(m, arrays), map_dataset(m, items, gi)
            if both:
                ds = D(m).StackDataset(a, y=b)
            else:
                ds = D(m).StackDataset(x=a, y=b) if named else D(m).StackDataset(a, b)
            out = {"len": attempt(lambda: len(ds))}
            for i in idx:
                out[f"[{i}]"] = attempt(lambda i=i: ds[i])
            out["__getitems__"] = attempt(lambda: ds.__getitems__([j % max(n, 1) for j in idx]))
            return out
    elif kind == "random_split":
        if draw(st.booleans()):
            lengths: list = [draw(st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 1.0,
                                                   1 / 3])) for _ in range(draw(st.integers(1,
                                                                                            4)))]
            if not bad(draw) and sum(lengths) > 0:  # most often fractions adding up to 1
                lengths = [f / sum(lengths) for f in lengths]
            name = "random_split fractions"
        else:
            k = draw(st.integers(1, 3))
            cuts = sorted(draw(st.integers(0, n)) for _ in range(k - 1))
            lengths = [b - a for a, b in zip([0] + cuts, cuts + [n])]
            if bad(draw):
                lengths[0] += draw(st.sampled_from([1, -1]))
                # (a negative count: torch takes it and makes overlapping subsets from
                # wrapped-around slices; ours refuses it)
                if lengths[0] < 0:
                    lengths[0] = 0
            name = "random_split counts"
        seed = draw(st.integers(0, 2**32 - 1))
        note(f"lengths={lengths}")

        def call(m):
            parts = D(m).random_split(sized_of(n), lengths,
                                      generator=m.Generator().manual_seed(seed))
            return {"lens": [len(p) for p in parts],
                    "all": sorted(i for p in parts for i in p)}
    else:
        items = samples(draw, n)
        which = draw(st.sampled_from(["map+map", "iter+iter", "map+iter", "iter+map"]))
        name = f"add {which}"

        def call(m):
            a = map_dataset(m, items) if which.startswith("map") else stream(m, items, n)
            b = map_dataset(m, items[:2]) if which.endswith("map") else stream(m, items[:2], 2)
            ds = a + b
            out = {"type": type(ds).__name__, "len": attempt(lambda: len(ds))}
            if isinstance(ds, D(m).IterableDataset):
                out["list"] = attempt(lambda: list(ds))
            else:
                out["items"] = attempt(lambda: [ds[i] for i in range(len(ds))])
            return out

    return Case(name, call, check)


# ---- the loader's arguments ----------------------------------------------------------------


@gen("arguments")
def _arguments(draw):
    nw = draw(st.sampled_from([0, 0, 0, 1, 2, -1]))
    pf = draw(st.sampled_from([None, None, 1, 2, -1] + ([] if nw > 0 else [0])))
    # (prefetch_factor=0 with workers: ours refuses it when made, torch's when iterated,
    # which this case does not do with workers: a documented difference)
    persistent = draw(st.booleans())
    timeout = draw(st.sampled_from([0, 0, 1, -1]))
    pin = draw(st.booleans())
    ctx = draw(st.sampled_from([None, None, "fork", "nonsense"]))

    def call(m):
        loader = D(m).DataLoader(list(range(5)), batch_size=2, num_workers=nw,
                                 prefetch_factor=pf, persistent_workers=persistent,
                                 timeout=timeout, pin_memory=pin, multiprocessing_context=ctx)
        out = {"prefetch_factor": loader.prefetch_factor,
               "persistent_workers": loader.persistent_workers,
               "num_workers": loader.num_workers, "len": len(loader)}
        if nw == 0:
            out["batches"] = attempt(lambda: list(loader))
        return out

    # (timeout > 0 without workers: ours refuses it when made, torch's when iterated)
    return Case(f"arguments num_workers={nw}", call, early=timeout > 0)


# ---- worker processes ----------------------------------------------------------------------

STAMP = {"init": -1}


def _init_worker(i):
    STAMP["init"] = 100 + i


def worker_dataset(m, n, kind, fail=-1, length=None):
    """Samples that say which worker read them; an iterable one splits its stream by
    ``get_worker_info()``. Sample ``fail`` raises; ``length`` is the stream's ``__len__``."""

    class Indexed(D(m).Dataset):
        def __getitem__(self, i):
            if i == fail:
                raise ValueError(f"sample {i} is broken")
            info = D(m).get_worker_info()
            return {"i": i, "worker": -1 if info is None else info.id,
                    "of": 0 if info is None else info.num_workers, "init": STAMP["init"]}

        def __len__(self):
            return n

    class Sharded(D(m).IterableDataset):
        def __iter__(self):
            info = D(m).get_worker_info()
            k, w = (0, 1) if info is None else (info.id, info.num_workers)
            for i in range(k, n + k % 2, w):  # uneven shards: the workers run out apart
                yield {"i": i, "worker": k, "init": STAMP["init"]}

    class SizedSharded(Sharded):
        def __len__(self):
            return length

    return Indexed() if kind == "map" else Sharded() if length is None else SizedSharded()


@gen("workers")
def _workers(draw):
    n = draw(st.integers(0, 6))
    nw = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["map", "iterable"]))
    bs = draw(st.sampled_from([None, 1, 2, 3]))
    init = draw(st.booleans())
    persistent = draw(st.booleans())
    fail = draw(st.integers(0, n)) if kind == "map" and n and bad(draw) else -1
    length = draw(st.sampled_from([None, 0, 1, n])) if kind == "iterable" else None
    ask_len = draw(st.booleans())

    def call(m):
        STAMP["init"] = -1
        loader = D(m).DataLoader(worker_dataset(m, n, kind, fail, length), batch_size=bs,
                                 num_workers=nw, worker_init_fn=_init_worker if init else None,
                                 persistent_workers=persistent)
        out = {"len": attempt(lambda: len(loader))} if ask_len else {}
        out["batches"] = attempt(lambda: list(loader))
        out["main"] = D(m).get_worker_info()
        if persistent:
            out["again"] = attempt(lambda: list(loader))
        return out

    return Case(f"workers {kind}", call)


# ---- the runner ----------------------------------------------------------------------------


@dataclass
class Result:
    error: BaseException | None = None
    parts: dict = field(default_factory=dict)
    warned: Counter = field(default_factory=Counter)
    messages: list = field(default_factory=list)


# torch warns that pin_memory=True pins nothing without an accelerator; here pin_memory
# changes nothing on any device (docs/pytorch.md), and says nothing; torch's as_tensor of a list
# holding arrays warns that it is slow, ours makes it as fast as any other; torch's tensor
# indexed by a list (default_collate given one sample) warns of its own deprecation
UNCOMPARED_WARNINGS = ("'pin_memory' argument is set as true but no accelerator",
                       "Creating a tensor from a list of numpy.ndarrays is extremely slow",
                       "Using a non-tuple sequence for multidimensional indexing is deprecated")


def _execute(case: Case, m) -> Result:
    r = Result()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            r.parts = {k: canon(v) for k, v in case.call(m).items()}
        except Exception as e:  # noqa: BLE001
            r.error = e
    kept = [w for w in caught if not str(w.message).startswith(UNCOMPARED_WARNINGS)]
    r.warned = Counter(w.category.__name__ for w in kept)
    r.messages = [str(w.message) for w in kept]
    return r


def _run_case(data, family):
    case = GENS[family](data.draw)
    t = _execute(case, torch)
    o = _execute(case, tr)
    label = case.name
    note(f"torch: {t.error!r} {t.parts}\nours:  {o.error!r} {o.parts}")
    if t.error is not None or o.error is not None:
        event(f"raised when made: {family} torch={type(t.error).__name__} "
              f"ours={type(o.error).__name__}")
    if case.early and o.error is not None and t.error is None and \
            ("raised",) in t.parts.values():
        event(f"ours refused when made: {family}")
        return
    assert (t.error is None) == (o.error is None), f"{label}: torch raised {t.error!r}, " \
        f"ours {o.error!r}"
    if t.error is not None:
        return
    RAN[label] += 1
    assert list(o.parts) == list(t.parts), f"{label}: parts {list(o.parts)} vs " \
        f"{list(t.parts)}"
    for name, tv in t.parts.items():
        ov = o.parts[name]
        if tv == ("raised", "torch bug"):
            event(f"torch is wrong: {family} {name}")
            continue
        if tv == ("raised",) or ov == ("raised",):
            event(f"raised: {family} {name}")
            assert tv == ov, f"{label}: {name}: torch {tv}, ours {ov}"
            continue
        check = case.check.get(name)
        if check is None:
            assert ov == tv, f"{label}: {name}\nours  {ov}\ntorch {tv}"
        else:
            check(ov, tv, f"{label}: {name}")
    if case.warns:
        assert o.warned == t.warned, f"{label}: warnings: ours {o.messages}, torch " \
            f"{t.messages}"


FACTOR = int(os.environ.get("DATA_FUZZ_FACTOR", "1"))


def _scaled(factor: float):
    return settings(max_examples=max(1, int(settings.default.max_examples * factor * FACTOR)))


@pytest.mark.parametrize("family", ["loader", "iterable", "collate", "sampler", "dataset",
                                    "arguments"])
@_scaled(4)
@given(data=st.data())
def test_data_call_matches_torch(family, data):
    _run_case(data, family)


@_scaled(0.2)
@given(data=st.data())
def test_data_workers_match_torch(data):
    _run_case(data, "workers")


# ---- what the fuzzer found -----------------------------------------------------------------


def test_collate_keeps_mapping_and_list_types():
    """default_collate and default_convert give back an OrderedDict (and a list subclass) as
    they came, as torch's; they used to give plain dicts and lists."""

    class Row(list):
        pass

    for m in (torch, tr):
        batch = [OrderedDict(b=np.float32(i), a=Row([i, i + 1])) for i in range(3)]
        out = D(m).default_collate(batch)
        assert type(out) is OrderedDict and list(out) == ["b", "a"]
        assert type(out["a"]) is Row
        conv = D(m).default_convert(batch[1])
        assert type(conv) is OrderedDict and type(conv["a"]) is Row
        assert type(D(m).default_convert(range(2))) is list  # a type that cannot be made so
    assert canon(D(tr).default_collate(batch)) == canon(D(torch).default_collate(batch))


def test_subset_getitems_goes_through_the_dataset():
    """Subset.__getitems__ (which a DataLoader calls) uses its dataset's own __getitems__,
    and a list of positions indexes the dataset with a list, as torch's; both were missing."""
    items = [np.float32(i) for i in range(5)]
    got = {}
    for m in (torch, tr):
        sub = D(m).Subset(map_dataset(m, items, getitems=True), [4, 0, 2])
        loader = D(m).DataLoader(sub, batch_size=2, collate_fn=lambda b: b)
        first = next(iter(loader))
        assert first == [("many", 4.0), ("many", 0.0)]  # fetched by the dataset's own call
        got[m] = canon([sub.__getitems__([2, 0]), list(loader),
                        D(m).Subset(tensor_dataset(m, [np.arange(5)]), [3, 1])[[1, 0]]])
    assert got[tr] == got[torch]


def test_subset_subclass_must_define_getitems():
    """A Subset subclass that overrides __getitem__ alone is refused, as torch's: the loader
    would fetch through Subset.__getitems__ and pass it by."""
    for m in (torch, tr):
        class Doubled(D(m).Subset):
            def __getitem__(self, i):
                return 2 * self.dataset[self.indices[i]]

        with pytest.raises(NotImplementedError, match="__getitems__"):
            Doubled([1, 2, 3], [0, 1])

        class Fine(Doubled):
            def __getitems__(self, indices):
                return [self[i] for i in indices]

        assert Fine([1, 2, 3], [2, 0]).__getitems__([0, 1]) == [6, 2]


def test_default_collate_refuses_a_tensor_for_a_list():
    """default_collate of one tensor (a collate_fn=default_collate left on with
    batch_size=None) is a TypeError, as torch's; ours used to stack the tensor's rows."""
    for m in (torch, tr):
        with pytest.raises(TypeError):
            D(m).default_collate(m.tensor([1.5, 2.5]))
        loader = D(m).DataLoader([m.tensor([1.5])], batch_size=None,
                                 collate_fn=D(m).default_collate)
        with pytest.raises(TypeError):
            list(loader)


def test_default_collate_promotes_as_torch():
    """A field of numbers of several types is made as torch.tensor/as_tensor make it (the
    values and dtypes decide, by torch's promotion), as torch's default_collate; ours read a
    0-d tensor among ints as an int, and promoted NumPy numbers and arrays by NumPy's rule."""
    cases = [lambda m: [7, m.tensor(1.5)], lambda m: [True, False], lambda m: [True, 2],
             lambda m: [7, m.tensor(1.5, dtype=m.float64)], lambda m: [7, m.tensor(2)],
             lambda m: [2, 1.5], lambda m: [np.int32(1), np.float32(2.5)],
             lambda m: [np.float16(1), np.int64(3)], lambda m: [np.float32(1), 1.5],
             lambda m: [np.array([1], "int32"), np.array([1.5], "float32")]]
    for f in cases:
        ours, theirs = D(tr).default_collate(f(tr)), D(torch).default_collate(f(torch))
        assert canon(ours) == canon(theirs), (f(torch), canon(ours), canon(theirs))
    for m in (torch, tr):  # bytes given for a list: their byte values are not a batch
        with pytest.raises((TypeError, ValueError)):
            D(m).default_collate(b"bA")
