"""Seed capture in real IPython shells: every seeding API recorded in its cell with a JSON-able value,
names imported before ``start`` still seen, libraries never imported by us, originals restored on stop."""

from __future__ import annotations

import json
import random
import sys

import numpy as np
from conftest import run

from reprotrack import store
from reprotrack.kernel import session


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def last_seeds():
    return session.active().cells[-1].seeds


def test_seeding_functions_are_recorded_with_their_values(ip):
    ok(ip, "import random\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "random.seed(3)")
    assert last_seeds() == [{"api": "random.seed", "value": 3}]
    ok(ip, "np.random.seed(4)\nnp.random.seed(seed=5)")
    assert last_seeds() == [{"api": "numpy.random.seed", "value": 4}, {"api": "numpy.random.seed", "value": 5}]
    ok(ip, "g = np.random.default_rng(42)\nh = np.random.default_rng(np.random.SeedSequence(7))")
    assert last_seeds()[0] == {"api": "numpy.random.default_rng", "value": 42}
    assert last_seeds()[1]["value"].startswith("SeedSequence(entropy=7")
    ok(ip, "random.seed('text seed')\nnp.random.seed(np.uint32(9))\nrandom.seed(2**70)")
    assert [s["value"] for s in last_seeds()] == ["text seed", 9, str(2**70)]
    ok(ip, "st = np.random.get_state()\nnp.random.set_state(st)\nrandom.setstate(random.getstate())")
    apis = [s["api"] for s in last_seeds()]
    assert apis == ["numpy.random.set_state", "random.setstate"]
    assert all(s["value"].startswith("state sha256:") for s in last_seeds())


def test_generator_classes_are_read_from_the_cell(ip):
    ok(ip, "import random\nimport numpy as np\nfrom numpy.random import Generator, PCG64, SeedSequence, RandomState")
    run(ip, "%reprotrack start")
    ok(
        ip,
        "s = 11\n"
        "a = np.random.RandomState(s)\n"
        "b = Generator(PCG64(9))\n"
        "c = SeedSequence(entropy=1234)\n"
        "d = random.Random(5)\n"
        "e = np.random.MT19937(seed=s + 1)\n"
        "f = RandomState(3).rand()\n",
    )
    seeds = {(s["api"], json.dumps(s["value"])) for s in last_seeds()}
    assert ("numpy.random.RandomState", "11") in seeds
    assert ("numpy.random.PCG64", "9") in seeds
    assert ("numpy.random.Generator", '"expr: PCG64(9)"') in seeds
    assert ("numpy.random.SeedSequence", "1234") in seeds
    assert ("random.Random", "5") in seeds
    assert ("numpy.random.MT19937", '"expr: s + 1"') in seeds
    assert ("numpy.random.RandomState", "3") in seeds
    assert not session.active().cells[-1].randomness


def test_an_unseeded_constructor_counts_only_when_it_ran(ip):
    ok(ip, "import numpy as np\nfrom numpy.random import RandomState, PCG64, Generator")
    run(ip, "%reprotrack start")
    ok(ip, "fresh = False\nr = RandomState() if fresh else np.random.RandomState(0)\n"
           "if fresh:\n    g = Generator(PCG64())")
    assert not session.active().cells[-1].randomness  # written, never run: no generator was made unseeded
    ok(ip, "def make():\n    return np.random.RandomState()\nr = make()")
    sources = [e["source"] for e in session.active().cells[-1].randomness]
    assert sources == ["numpy.random.RandomState()"]
    ok(ip, "g = Generator(PCG64())")
    assert [e["source"] for e in session.active().cells[-1].randomness] == ["numpy.random.PCG64()"]


def test_names_imported_before_start_are_seen(ip):
    ok(ip, "from numpy.random import seed, default_rng\nfrom random import seed as pyseed")
    run(ip, "%reprotrack start")
    ok(ip, "seed(1)\npyseed(2)\nr = default_rng(3)")
    assert last_seeds() == [
        {"api": "numpy.random.seed", "value": 1},
        {"api": "random.seed", "value": 2},
        {"api": "numpy.random.default_rng", "value": 3},
    ]


def test_scikit_learn_random_state_of_estimators_and_splitters(ip):
    ok(
        ip,
        "import numpy as np\nfrom sklearn.ensemble import RandomForestClassifier\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import KFold, ShuffleSplit\nX = np.random.RandomState(0).normal(size=(40, 3)); y = np.arange(40) % 2",
    )
    run(ip, "%reprotrack start")
    ok(ip, "RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)")
    # the forest's own trees get derived seeds: only the user's random_state is recorded
    assert last_seeds() == [{"api": "sklearn.ensemble.RandomForestClassifier(random_state=)", "value": 0}]
    ok(ip, "RandomForestClassifier(n_estimators=2, random_state=np.random.RandomState(1)).fit(X, y)")
    assert last_seeds() == [
        {"api": "sklearn.ensemble.RandomForestClassifier(random_state=)", "value": "RandomState"},
        {"api": "numpy.random.RandomState", "value": 1},
    ]
    ok(ip, "LogisticRegression().fit(X, y)")
    assert last_seeds() == []  # random_state=None is no seed set: it draws from the global generator
    ok(ip, "list(KFold(4, shuffle=True, random_state=3).split(X))\nlist(ShuffleSplit(2, random_state=8).split(X))\nlist(KFold(2).split(X))")
    assert last_seeds() == [
        {"api": "sklearn.model_selection.KFold(random_state=)", "value": 3},
        {"api": "sklearn.model_selection.ShuffleSplit(random_state=)", "value": 8},
    ]


def test_seeds_are_deduplicated_and_bounded_per_cell(ip):
    ok(ip, "import numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "for i in range(1000):\n    np.random.seed(i % 300)\nfor i in range(5):\n    np.random.seed(0)")
    seeds = last_seeds()
    assert len(seeds) == 200 and seeds[0] == {"api": "numpy.random.seed", "value": 0}


def test_the_lock_with_seeds_is_valid_json_matching_the_schema(ip, tmp_path):
    ok(ip, "import random, numpy as np\nfrom sklearn.model_selection import train_test_split")
    run(ip, "%reprotrack start")
    ok(ip, "random.seed(1)\nnp.random.seed([1, 2, 3])\nrs = np.random.RandomState(np.arange(4))\ng = np.random.default_rng(np.random.default_rng(1))")
    ok(ip, "parts = train_test_split(list(range(10)), random_state=np.random.RandomState(0))")
    run(ip, "%reprotrack save")
    lock = store.read_lock(tmp_path / "reprotrack.lock")  # validates against the schema
    values = [s["value"] for c in lock.cells for s in c.seeds]
    assert [1, 2, 3] in values and "RandomState" in values
    assert any(isinstance(v, str) and v.startswith("Generator(PCG64, entropy=1") for v in values)


def test_torch_and_tensorflow_are_patched_only_when_imported(ip):
    assert "torch" not in sys.modules and "tensorflow" not in sys.modules
    run(ip, "%reprotrack start")
    ok(ip, "x = 1")
    assert "torch" not in sys.modules and "tensorflow" not in sys.modules  # never imported by us
    # a stand-in module of torch's shape is imported by the user in a tracked cell
    try:
        ok(
            ip,
            "import sys, types\ncalls = []\ntorch = types.ModuleType('torch')\n"
            "def manual_seed(seed):\n    calls.append(seed)\n    return f'generator-{seed}'\n"
            "torch.manual_seed = original = manual_seed\nkeep = [original]\nsys.modules['torch'] = torch\ngen = torch.manual_seed(17)",
        )
        assert last_seeds() == []  # imported inside this cell: patched before the next one
        ok(ip, "gen = torch.manual_seed(18)")
        assert last_seeds() == [{"api": "torch.manual_seed", "value": 18}]
        assert ip.user_ns["gen"] == "generator-18" and ip.user_ns["calls"] == [17, 18]
        torch = sys.modules["torch"]
        original = ip.user_ns["keep"][0]
        assert torch.manual_seed.__wrapped__ is original
        assert ip.user_ns["original"] is torch.manual_seed  # a name bound to the original follows the patch
        run(ip, "%reprotrack stop")
        assert torch.manual_seed is original and ip.user_ns["original"] is original
    finally:
        sys.modules.pop("torch", None)


def test_stop_restores_the_seeding_functions(ip):
    before = (random.seed, random.setstate, np.random.seed, np.random.set_state, np.random.default_rng)
    ok(ip, "from numpy.random import seed")
    run(ip, "%reprotrack start")
    ok(ip, "x = 1")
    assert np.random.seed is not before[2] and ip.user_ns["seed"] is np.random.seed
    assert np.random.seed.__name__ == "seed" and np.random.seed.__doc__ == before[2].__doc__
    run(ip, "%reprotrack stop")
    assert (random.seed, random.setstate, np.random.seed, np.random.set_state, np.random.default_rng) == before
    assert all(a is b for a, b in zip((random.seed, random.setstate, np.random.seed, np.random.set_state), before))
    assert ip.user_ns["seed"] is before[2]


def test_a_hostile_seed_value_never_breaks_the_call(ip):
    ok(ip, "import random\nclass Evil:\n    def __repr__(self):\n        raise RuntimeError('no')\n    def __hash__(self):\n        return 1")
    plain = run(ip, "random.seed(Evil())").error_in_exec
    run(ip, "%reprotrack start")
    tracked = run(ip, "random.seed(Evil())").error_in_exec
    assert type(plain) is type(tracked) and str(plain) == str(tracked)
