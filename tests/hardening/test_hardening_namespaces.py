"""Hardening: hostile namespaces never break a cell.

Cells create objects that raise from ``__eq__``, ``__len__``, ``__hash__``, ``__array__``, ``__getattr__``,
``__getattribute__`` or properties (with exceptions whose own ``__str__`` raises), recursive containers,
generators and iterators, lazy proxies that lie about their class, memory-mapped arrays, objects over the size
cap, awkward DataFrames (duplicate columns, MultiIndex columns, mixed object columns, tz-aware datetimes,
nullable/extension, sparse, categorical and interval dtypes) and C-extension objects without ``__dict__``.

For every case, in a real ``InteractiveShell`` with tracking on: the cell succeeds with the very result it
would have had untracked, nothing like a traceback or an internal-error warning reaches its output, the
iterators are not consumed, and the lock is written and valid. Then hypothesis builds random namespaces of
the same ingredients. ``HOSTILE_CASES`` is the figure reported for this kind.
"""

from __future__ import annotations

import pytest
from conftest import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprotrack import store
from reprotrack.kernel import session

#: Classes every case may use. ``Boom`` is an exception whose ``str()`` raises too: a note about it must not.
PRELUDE = '''
import array, collections, datetime, decimal, fractions, itertools, re, threading, weakref
import numpy as np
import pandas as pd

class Boom(Exception):
    def __str__(self):
        raise RuntimeError("str() of Boom")
    __repr__ = __str__

class RaisingEq:
    def __eq__(self, other): raise Boom()
    __hash__ = object.__hash__
    def __repr__(self): return "RaisingEq()"

class RaisingLen(list):
    def __len__(self): raise Boom()
    def __repr__(self): return "RaisingLen()"

class RaisingHash:
    def __hash__(self): raise Boom()
    def __repr__(self): return "RaisingHash()"

class RaisingArray:
    def __array__(self, *args, **kwargs): raise Boom()
    def __len__(self): return 3
    def __repr__(self): return "RaisingArray()"

class RaisingGetattr:
    def __getattr__(self, name): raise Boom()
    def __repr__(self): return "RaisingGetattr()"

class RaisingGetattribute:
    def __getattribute__(self, name):
        if name in ("__repr__", "__class__"):
            return object.__getattribute__(self, name)
        raise Boom()
    def __repr__(self): return "RaisingGetattribute()"

class RaisingProperties:
    @property
    def nbytes(self): raise Boom()
    @property
    def shape(self): raise Boom()
    @property
    def dtype(self): raise Boom()
    @property
    def __dict__(self): raise Boom()
    def memory_usage(self, *a, **k): raise Boom()
    def isoformat(self): raise Boom()
    def __repr__(self): return "RaisingProperties()"

class AllHostile:
    def __eq__(self, other): raise Boom()
    def __hash__(self): raise Boom()
    def __len__(self): raise Boom()
    def __iter__(self): raise Boom()
    def __bool__(self): raise Boom()
    def __array__(self, *a, **k): raise Boom()
    def __float__(self): raise Boom()
    def __index__(self): raise Boom()
    def __getattr__(self, name): raise Boom()
    def __repr__(self): return "AllHostile()"

class HostileEstimator:
    """Looks fitted to scikit-learn duck typing, and raises from everything it is asked."""
    def __init__(self): self.coef_ = np.arange(3.0)
    def fit(self, X, y=None): return self
    def get_params(self, deep=True): raise Boom()
    def __getstate__(self): raise Boom()
    def __repr__(self): return "HostileEstimator()"

class LyingProxy:
    """A lazy proxy (lazy-object-proxy / Django SimpleLazyObject style) that claims the class of what it
    wraps and builds it on first attribute access: the tracker must not be the one to evaluate it."""
    evaluations = 0
    def __init__(self, factory): object.__setattr__(self, "_factory", factory)
    @property
    def __class__(self): return pd.DataFrame
    def __getattr__(self, name):
        type(self).evaluations += 1
        return getattr(object.__getattribute__(self, "_factory")(), name)
    def __repr__(self): return "LyingProxy()"

class NoDict:
    __slots__ = ("a",)
    def __init__(self): self.a = 1
    def __repr__(self): return "NoDict()"
'''

#: (name, source, probe, expected): run ``source`` tracked, then ``probe`` (an expression) must give
#: ``expected`` — the user's values and iterators are untouched.
HOSTILE_CASES = [
    ("eq", "x = RaisingEq()\nxs = [RaisingEq(), 1]\nxd = {'k': RaisingEq()}\nx", "type(x).__name__", "RaisingEq"),
    ("len", "y = RaisingLen([1, 2])\nys = (y, 3)\ny", "list.__len__(y)", 2),
    ("hash", "z = RaisingHash()\nzs = [z]\nzd = {1: z}\nz", "len(zs)", 1),
    ("array", "w = RaisingArray()\nws = [w, w]\nw", "len(ws)", 2),
    ("getattr", "g = RaisingGetattr()\ngs = [g]\ngd = {'g': g}\ng", "len(gd)", 1),
    ("getattribute", "ga = RaisingGetattribute()\ngas = [ga, 1.5]\nga", "gas[1]", 1.5),
    ("properties", "p = RaisingProperties()\nps = [p]\np", "len(ps)", 1),
    ("all-hostile", "h = AllHostile()\nhl = [h, 1]\nhd = {'h': h}\nht = (h,)\nh", "len(hl)", 2),
    ("hostile-in-frame", "hf = pd.DataFrame({'o': [1, 'a', 2.5, None, AllHostile(), RaisingEq(), RaisingProperties()]})\nhf",
     "hf.shape", (7, 1)),
    ("hostile-in-series", "hs = pd.Series([RaisingGetattr(), RaisingProperties(), RaisingHash()])\nhs", "len(hs)", 3),
    ("hostile-in-array", "ha = np.empty(3, dtype=object)\nha[0], ha[1], ha[2] = AllHostile(), RaisingEq(), 1\nha", "ha.shape", (3,)),
    ("hostile-index", "hi = pd.Series([1, 2], index=[RaisingProperties(), RaisingEq()])\nhi", "len(hi)", 2),
    ("hostile-column-name", "hc = pd.DataFrame([[1, 2]], columns=[RaisingProperties(), RaisingGetattr()])\nhc",
     "hc.shape", (1, 2)),
    ("hostile-estimator", "est = HostileEstimator()\nest", "est.coef_.sum()", 3.0),
    ("raising-exception-str", "class Bad(Exception):\n    def __str__(self): raise RuntimeError('no')\n"
     "bad = Bad()\nbads = [bad]\nbad", "type(bad).__name__", "Bad"),
    ("recursive-list", "r = [1, 2]\nr.append(r)\nr", "r[2] is r", True),
    ("recursive-dict", "rd = {'a': 1}\nrd['self'] = rd\nrd", "rd['self'] is rd", True),
    ("mutual-recursion", "m1, m2 = [], {}\nm1.append(m2)\nm2['l'] = m1\nm1", "m2['l'] is m1", True),
    ("deep-nesting", "deep = [0]\nfor _ in range(5000):\n    deep = [deep]\nlen(deep)", "len(deep)", 1),
    ("deep-dict", "dd = {}\ncur = dd\nfor i in range(2000):\n    cur[i] = {}\n    cur = cur[i]\nlen(dd)", "len(dd)", 1),
    ("generator", "gen = (i for i in range(5))\ngen", "next(gen)", 0),
    ("iterator", "it = iter([10, 20, 30])\nit", "next(it)", 10),
    ("map-zip", "mp = map(int, '123')\nzp = zip([1, 2], 'ab')\nmp", "next(mp)", 1),
    ("itertools", "cnt = itertools.count(7)\ncyc = itertools.cycle([1, 2])\nchained = itertools.chain([5], [6])\ncnt",
     "next(cnt) + next(chained)", 12),
    ("generator-in-container", "gens = [(i for i in range(3)), iter('ab')]\ngens", "next(gens[0]) + 1", 1),
    ("generator-in-frame", "gfr = pd.DataFrame({'g': [(i for i in range(3)), iter([1])]})\ngfr", "next(gfr.g[0])", 0),
    ("lazy-proxy", "proxy = LyingProxy(lambda: pd.DataFrame({'a': [1]}))\nproxies = [proxy]\nlazy_d = {'p': proxy}\n0",
     "LyingProxy.evaluations", 0),
    ("weakref-proxy", "class T:\n    v = 3\ntarget = T()\nwp = weakref.proxy(target)\nwr = weakref.ref(target)\nwp.v",
     "wr() is target", True),
    ("dead-weakref", "class T2:\n    pass\nt2 = T2()\ndead = weakref.proxy(t2)\ndel t2\ndeadl = [dead]\n1", "len(deadl)", 1),
    ("memmap", "mm = np.memmap('mm.dat', dtype='float64', mode='w+', shape=(4096,))\nmm[:] = 1.5\nmm.flush()\nmm.sum()",
     "float(mm[10])", 1.5),
    ("memmap-readonly", "mr = np.memmap('mm.dat', dtype='float64', mode='r')\nmr[:3]", "mr.flags.writeable", False),
    ("huge-array", "huge = np.zeros(3_000_000)\nhuge[::7] = 1.0\nhuge.sum()", "huge.shape", (3_000_000,)),
    ("huge-frame", "hfr = pd.DataFrame({'a': np.arange(500_000), 'b': np.arange(500_000) % 7})\nhfr.shape",
     "int(hfr.b.sum())", int(sum(i % 7 for i in range(500_000)))),
    ("huge-string", "hstr = 'x' * (8 << 20)\nlen(hstr)", "len(hstr)", 8 << 20),
    ("huge-list", "hlist = list(range(200_000))\nlen(hlist)", "hlist[-1]", 199_999),
    ("broadcast-view", "bv = np.broadcast_to(np.arange(3.0), (1_000_000, 3))\nbv.shape", "bv.strides", (0, 8)),
    ("duplicate-columns", "dup = pd.DataFrame([[1, 2, 3], [4, 5, 6]], columns=['a', 'a', 'b'])\ndup", "list(dup.columns)",
     ["a", "a", "b"]),
    ("multiindex-columns", "mic = pd.DataFrame([[1, 2], [3, 4]], columns=pd.MultiIndex.from_tuples([('x', 'a'), ('x', 'b')]))\n"
     "mic", "mic.shape", (2, 2)),
    ("multiindex-rows", "mir = pd.DataFrame({'v': [1.0, 2.0]}, index=pd.MultiIndex.from_tuples([(1, 'a'), (2, None)]))\n"
     "mir", "mir.index.nlevels", 2),
    ("mixed-object", "mix = pd.DataFrame({'o': [1, 'a', 2.5, None, b'x', (1, 2), [3], {'k': 1}, decimal.Decimal('1.5'), "
     "fractions.Fraction(1, 3), datetime.date(2020, 1, 1), float('nan'), 10**40]})\nmix", "len(mix)", 13),
    ("tz-aware", "tz = pd.DataFrame({'t': pd.date_range('2020-03-29', periods=50, freq='h', tz='Europe/Paris'), "
     "'u': pd.Timestamp('2020-01-01', tz='UTC')})\ntz", "str(tz.t.dt.tz)", "Europe/Paris"),
    ("tz-mixed-object", "tzo = pd.Series([pd.Timestamp('2020', tz='UTC'), pd.Timestamp('2020', tz='Asia/Tokyo'), None], "
     "dtype=object)\ntzo", "len(tzo)", 3),
    ("nullable", "nul = pd.DataFrame({'i': pd.array([1, None, 3], dtype='Int64'), 's': pd.array(['a', None, 'c'], "
     "dtype='string'), 'b': pd.array([True, None, False], dtype='boolean'), 'f': pd.array([1.5, None, 2.0], "
     "dtype='Float64')})\nnul", "int(nul.i.isna().sum())", 1),
    ("pyarrow-dtypes", "try:\n    pa_ = pd.Series([1, None, 3], dtype='int64[pyarrow]')\n    pb_ = pd.Series(['x', None], "
     "dtype='string[pyarrow]')\nexcept Exception:\n    pa_ = pb_ = pd.Series([1])\nlen(pa_)", "len(pb_) > 0", True),
    ("sparse", "sp = pd.DataFrame({'s': pd.arrays.SparseArray([0, 0, 1.5, 0]), 'i': pd.arrays.SparseArray([0, 2, 0, 0])})\n"
     "sp", "float(sp.s.sum())", 1.5),
    ("categorical-interval-period", "cat = pd.DataFrame({'c': pd.Categorical(['a', 'b', 'a', None]), "
     "'iv': pd.interval_range(0, 4), 'pe': pd.period_range('2020-01', periods=4, freq='M'), "
     "'td': pd.to_timedelta([1, 2, None, 4], unit='s')})\ncat", "cat.shape", (4, 4)),
    ("empty-and-odd-frames", "e0 = pd.DataFrame()\ne1 = pd.DataFrame(index=range(3))\ne2 = pd.DataFrame(columns=['a'])\n"
     "e3 = pd.DataFrame({('t', 1): [1], None: [2], 3.5: [3]})\ne3", "e3.shape", (1, 3)),
    ("structured-and-odd-arrays", "sa = np.zeros(3, dtype=[('a', 'i4'), ('b', 'f8'), ('c', 'U3')])\n"
     "fa = np.asfortranarray(np.arange(12.0).reshape(3, 4))\nza = np.zeros((0, 5))\n"
     "oa = np.empty((2, 2), dtype=object)\nba = np.array([b'a', b'bc'])\nva = np.arange(10)[::-3]\nsa",
     "fa.flags.f_contiguous", True),
    ("extreme-floats", "xf = np.array([np.inf, -np.inf, np.nan, 1e308, -0.0, 5e-324])\nxs = pd.Series([np.inf, np.nan])\nxf",
     "bool(np.isnan(xf[2]))", True),
    ("c-extension-objects", "lk = threading.Lock()\npat = re.compile('a+')\narr = array.array('d', [1.0, 2.0])\n"
     "mv = memoryview(b'abc')\nsl = slice(1, 2)\nrg = range(10)\ndq = collections.deque([1, 2])\nnd = NoDict()\n"
     "objs = [lk, pat, mv, sl]\nlk", "len(objs)", 4),
    ("numpy-generators", "rng = np.random.default_rng(0)\nbitgen = rng.bit_generator\nrs = np.random.RandomState(1)\n"
     "rngs = [rng, rs]\nrng", "type(rng).__name__", "Generator"),
    ("modules-and-classes", "import math as mth\nK = type('K', (), {})\nfuncs = [len, print]\nK", "K.__name__", "K"),
    ("reassign-to-hostile", "mut = [1, 2, 3]", "len(mut)", 3),
    ("then-hostile", "mut = AllHostile()\nmut", "type(mut).__name__", "AllHostile"),
    ("deleted-hostile", "del mut\nhd2 = {'a': AllHostile()}\ndel hd2\n0", "'mut' in dir()", False),
    ("exec-opaque", "exec('ex = AllHostile()\\nexl = [RaisingEq()]')\n1", "len(exl)", 1),
    ("inplace-on-hostile-frame", "hf2 = pd.DataFrame({'o': [AllHostile(), 1]})\nhf2['n'] = 1\nhf2.fillna(0, inplace=True)\n"
     "hf2.shape", "hf2.shape", (2, 2)),
    ("bytes-like", "ba2 = bytearray(b'abc')\nmv2 = memoryview(ba2)\nba2", "bytes(ba2)", b"abc"),
]


def _ok_output(text: str) -> None:
    assert "Traceback" not in text
    assert "internal error" not in text
    assert "Boom" not in text and "str() of Boom" not in text


_BASELINE = r"""
import contextlib, io, json, sys
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
config = Config()
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(config=config)
shell.run_line_magic("colors", "nocolor")
cases = json.loads(sys.argv[1])
shell.run_cell(cases.pop(0), store_history=True)
outputs = []
for source in cases:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        shell.run_cell(source, store_history=True)
    outputs.append(buf.getvalue())
print(json.dumps(outputs))
"""


def _normalised(text: str) -> str:
    import re

    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("reprotrack:"))
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", re.sub(r"(Out|In)\[\d+\]", r"\1[?]", text))


def untracked_outputs(tmp_path, sources: list[str]) -> list[str]:
    """What each cell prints in a plain IPython (no reprotrack), run in a subprocess, in the same folder."""
    import json
    import subprocess
    import sys

    folder = tmp_path / "untracked"
    folder.mkdir()
    done = subprocess.run([sys.executable, "-c", _BASELINE, json.dumps([PRELUDE, *sources])], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def tracked(ip, monkeypatch):
    monkeypatch.setenv("REPROTRACK_MAX_BYTES", str(4 << 20))  # the huge cases go over the cap
    ip.run_line_magic("colors", "nocolor")
    result = run(ip, PRELUDE)
    assert result.success, result.error_in_exec
    run(ip, "%reprotrack start")
    return ip


def test_hostile_objects_never_break_a_cell(tracked, tmp_path, capsys):
    """Each cell prints exactly what it prints untracked (minus the tracker's own start line), and no note or
    warning says the tracker failed."""
    ip = tracked
    sources = [s for _, source, probe, _ in HOSTILE_CASES for s in (source, f"__probe = {probe}")]
    baseline = untracked_outputs(tmp_path, sources)[::2]
    capsys.readouterr()
    for (name, source, probe, expected), untracked in zip(HOSTILE_CASES, baseline):
        result = run(ip, source)
        out = capsys.readouterr()
        assert result.success, (name, result.error_in_exec or result.error_before_exec)
        shown, expected_shown = _normalised(out.out + out.err), _normalised(untracked)
        if "Boom" in expected_shown:  # IPython's own display of the object raised (also untracked): same error
            assert shown.splitlines()[-1] == expected_shown.splitlines()[-1], name
        else:
            assert shown == expected_shown, name
        assert "internal error" not in out.out + out.err, name
        assert run(ip, f"__probe = {probe}").success, name
        assert ip.user_ns["__probe"] == expected, name
        record = session.active().cells[-1]
        assert not any("internal error" in n for n in record.notes), (name, record.notes)
    s = session.active()
    assert len(s.cells) == 2 * len(HOSTILE_CASES)
    assert s.notes == []
    path = s.save(tmp_path / "hostile.lock")
    assert path is not None
    lock = store.read_lock(path)  # valid against the schema
    assert len(lock.cells) == len(s.cells)
    text = path.read_text("utf-8")
    assert "RaisingEq()" not in text and "AllHostile()" not in text  # never repr of a user object
    assert "internal error" not in text
    # what should be data is data; the hostile ones are described, never evaluated
    recorded = {k for c in lock.cells for k in c.data}
    assert {"dup", "mic", "mir", "mix", "tz", "nul", "sp", "cat", "mm", "huge", "hfr", "xf", "sa",
            "hf", "hs", "ha", "hi", "hc", "hf2", "gfr", "tzo", "e3"} <= recorded
    # no fingerprint failed on them (a note that says why a value is left out, e.g. a list over the size cap, is
    # information, not a failure)
    assert not [n for c in lock.cells for n in c.notes if "not fingerprinted (" in n and "'h" in n]
    assert lock.cells[2 * [c[0] for c in HOSTILE_CASES].index("huge-array")].data["huge"]["skipped"] == ["rows", "approx"]
    capsys.readouterr()


def test_huge_objects_are_summarised_in_bounded_parts(tracked, tmp_path):
    """Over the cap: content and stats only (the engine hashes in chunks); the lock stays small."""
    ip = tracked
    assert run(ip, "big = np.random.default_rng(0).random(2_000_000)\nbigf = pd.DataFrame({'a': big, 'b': big})").success
    path = session.active().save(tmp_path / "big.lock")  # a save waits for the background fingerprints
    data = session.active().cells[-1].data
    for name in ("big", "bigf"):
        assert data[name]["content"] and data[name]["skipped"] == ["rows", "approx"]
        assert data[name]["rows"] is None and data[name]["approx"] is None
    assert path.stat().st_size < 200_000


def test_warnings_stay_bounded_when_every_capture_fails(tracked, capsys, monkeypatch):
    """Even a tracker failing on every cell prints at most MAX_PRINTED_WARNINGS lines, and cells still run."""
    from reprotrack.kernel.capture.data import DataCapture

    def broken(self, ctx):
        raise Boom_(f"failure {len(session.active().cells)}")

    class Boom_(Exception):
        pass

    monkeypatch.setattr(DataCapture, "after_cell", broken)
    run(tracked, "%reprotrack stop")
    run(tracked, "%reprotrack start")
    capsys.readouterr()
    for i in range(60):
        assert run(tracked, f"v{i} = {i}").success
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("reprotrack:")]
    assert 0 < len(lines) <= session.MAX_PRINTED_WARNINGS
    assert all(len(c.notes) <= session.MAX_NOTES for c in session.active().cells)
    assert tracked.user_ns["v59"] == 59


# -- generated namespaces ---------------------------------------------------------------------------------
_ATOMS = [
    "AllHostile()", "RaisingEq()", "RaisingHash()", "RaisingGetattr()", "RaisingGetattribute()", "RaisingProperties()",
    "RaisingArray()", "HostileEstimator()", "NoDict()", "iter([1, 2])", "(i for i in range(2))", "threading.Lock()",
    "1", "2.5", "float('nan')", "'text'", "b'raw'", "None", "True", "10**30", "decimal.Decimal('2.50')",
    "np.arange(4)", "np.float32(1.5)", "np.full(2, RaisingEq(), dtype=object)", "pd.Series([1, None])",
    "pd.Series([RaisingProperties(), 'a'])", "pd.DataFrame({'a': [1, 2]})", "datetime.datetime(2020, 1, 1)",
    "pd.Timestamp('2020', tz='UTC')", "pd.Categorical(['x'])", "pd.array([1, None], dtype='Int64')",
]


def _expressions():
    atom = st.sampled_from(_ATOMS)
    return st.recursive(
        atom,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(inner, max_size=3).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
            st.lists(inner, max_size=3).map(lambda xs: "{" + ", ".join(f"'k{i}': {x}" for i, x in enumerate(xs)) + "}"),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: "pd.DataFrame({'c': [" + ", ".join(xs) + "]})"),
            inner.map(lambda x: f"pd.Series([{x}, {x}], dtype=object)"),
        ),
        max_leaves=8,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_expressions(), min_size=1, max_size=4), st.booleans())
def test_generated_namespaces_never_break_a_cell(tracked, capsys, exprs, self_reference):
    lines = [f"gen_{i} = {e}" for i, e in enumerate(exprs)]
    if self_reference:
        lines.append("gen_loop = [gen_0]\ngen_loop.append(gen_loop)")
    lines.append("gen_last = len(dir())")
    result = run(tracked, "\n".join(lines))
    out = capsys.readouterr()
    assert result.success, result.error_in_exec
    _ok_output(out.out + out.err)
    record = session.active().cells[-1]
    assert not any("internal error" in n for n in record.notes), record.notes
    from reprotrack.core import lockfile

    lockfile.loads(lockfile.dumps(session.active().build_lock()))  # always a valid, serialisable lock
