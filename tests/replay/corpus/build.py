"""The corpus of realistic notebooks the verifier must get right, as Python source, and its builder.

Each notebook is written the way library galleries write them (scikit-learn's bundled datasets and
generators only: nothing is downloaded). ``CLEAN`` notebooks are fully seeded: every printed, displayed or
stored difference between two honest runs of them is noise (timings, addresses, temporary and install paths,
stream chunking, widget and display ids, estimator HTML ids, figure reprs) and must never be reported.
``REAL`` notebooks hide one real source of irreproducibility each, with the finding the verifier must give.

``IMPORT_WHERE_USED`` notebooks import each library in the cell that first uses it (the gallery style), load
data into containers (a ``Bunch``, a statsmodels-like ``Dataset``) and read a CSV shipped inside an installed
package; ``VARIANTS`` edit one of them after its research run (a seed removed, a split seed removed, the
loader's data perturbed by the staging kernel's start-up file, a cell inserted) and say what the verifier
must find, at which cell. Variants are built in memory by the test, not written to disk.

``python tests/corpus/build.py`` rewrites the ``.ipynb`` files beside this module from the definitions below;
``tests/test_corpus.py`` checks that the files on disk are the ones these definitions build, then records and
verifies each in real kernels.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


@dataclass
class Notebook:
    name: str
    title: str
    cells: list[str]
    #: Noise kinds a clean notebook exhibits (the figures the test reports).
    noise: list[str] = field(default_factory=list)
    #: For a real one: (cell index of the root finding, kind, cause, words the root's subject or message names).
    expect: tuple[int, str, str, str] | None = None
    #: Real ones whose effect appears only by chance in a given pair of runs say what else may come out.
    note: str = ""
    #: The ``pyproject.toml`` placed beside the notebook (the user's own normalisation rules).
    pyproject: str = ""


CLEAN = [
    Notebook(
        "classification_grid_search",
        "Classification: a pipeline tuned with GridSearchCV",
        [
            "import warnings\n"
            "import numpy as np\n"
            "import pandas as pd\n"
            "from sklearn.datasets import load_breast_cancer\n"
            "from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split\n"
            "from sklearn.pipeline import Pipeline\n"
            "from sklearn.preprocessing import StandardScaler\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "\n"
            "X, y = load_breast_cancer(return_X_y=True, as_frame=True)\n"
            "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)\n"
            "X_train.shape",
            # the estimator's HTML repr carries generated sk-container-id-N / sk-estimator-id-N ids
            'pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=5))])\npipe',
            # %%time output, a ConvergenceWarning printed with the library's install path and line
            "%%time\npipe.fit(X_train, y_train)",
            # verbose=2 prints "[CV] END ...; total time=   0.0s" for every fit
            "grid = GridSearchCV(pipe, {\"clf__C\": [0.1, 1.0, 10.0], \"clf__max_iter\": [5, 500]}, cv=3, verbose=2)\n"
            "grid.fit(X_train, y_train)",
            # cv_results_ as the displayed value: mean_fit_time / std_score_time columns are durations
            "results = pd.DataFrame(grid.cv_results_)\n"
            "results[[\"param_clf__C\", \"param_clf__max_iter\", \"mean_fit_time\", \"std_fit_time\", \"mean_score_time\",\n"
            "         \"mean_test_score\", \"rank_test_score\"]]",
            # ... and printed as a table
            "print(results[[\"param_clf__C\", \"mean_fit_time\", \"std_fit_time\", \"mean_score_time\", \"std_score_time\",\n"
            "               \"mean_test_score\"]].to_string())",
            "print(f\"best {grid.best_params_} with {grid.best_score_:.4f}; refit took {grid.refit_time_:.3f} s\")\n"
            "print(\"test accuracy:\", round(grid.score(X_test, y_test), 4))",
            # cross_validate's dict has fit_time and score_time arrays, kept and printed
            "with warnings.catch_warnings():\n"
            "    warnings.simplefilter(\"ignore\")\n"
            "    scores = cross_validate(grid.best_estimator_, X, y, cv=4, return_train_score=True)\n"
            "print(scores)\n"
            "scores[\"test_score\"].mean()",
        ],
        noise=["estimator-html-ids", "cell-magic-time", "library-warning-path", "verbose-fit-durations",
               "cv_results-timings", "printed-timing-table", "refit-time", "cross_validate-timings"],
    ),
    Notebook(
        "clustering_kmeans_plot",
        "Clustering: KMeans on blobs, with matplotlib plots",
        [
            "%matplotlib inline\n"
            "import numpy as np\n"
            "import matplotlib.pyplot as plt\n"
            "from sklearn.datasets import make_blobs\n"
            "from sklearn.cluster import KMeans\n"
            "from sklearn.metrics import silhouette_score\n"
            "\n"
            "X, y_true = make_blobs(n_samples=300, centers=4, cluster_std=0.7, random_state=0)",
            "km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X)\n"
            "print(\"inertia\", round(km.inertia_, 6))\n"
            "silhouette_score(X, km.labels_, sample_size=200, random_state=0)",
            # a figure displayed as the cell's value: a PNG whose bytes are not the point, and its repr
            "fig, ax = plt.subplots(figsize=(5, 4))\n"
            "ax.scatter(X[:, 0], X[:, 1], c=km.labels_, s=12, cmap=\"viridis\")\n"
            "ax.scatter(*km.cluster_centers_.T, c=\"red\", marker=\"x\", s=80)\n"
            "ax.set_title(\"KMeans, k=4\")\n"
            "fig",
            # pyplot state-machine calls: results are artists whose reprs carry memory addresses
            "inertias = [KMeans(n_clusters=k, n_init=3, random_state=0).fit(X).inertia_ for k in range(1, 8)]\n"
            "plt.figure()\n"
            "plt.plot(range(1, 8), inertias, marker=\"o\")",
            "points = plt.scatter(X[:, 0], X[:, 1], s=5)\n"
            "print(points)\n"
            "print(plt.gcf())\n"
            "plt.show()",
        ],
        noise=["figure-repr", "figure-image", "artist-address"],
    ),
    Notebook(
        "training_progress",
        "Training with progress bars, timings and threads",
        [
            "import sys\n"
            "import time\n"
            "import numpy as np\n"
            "from tqdm import tqdm\n"
            "from tqdm.auto import tqdm as auto_tqdm\n"
            "from sklearn.datasets import load_digits\n"
            "from sklearn.linear_model import SGDClassifier\n"
            "from sklearn.ensemble import RandomForestClassifier\n"
            "\n"
            "X, y = load_digits(return_X_y=True)\n"
            "classes = np.unique(y)",
            # tqdm in the terminal style (stderr, carriage returns, rates) and its widget form (tqdm.auto)
            "clf = SGDClassifier(random_state=0)\n"
            "start = time.perf_counter()\n"
            "for epoch in tqdm(range(15), desc=\"epochs\"):\n"
            "    clf.partial_fit(X, y, classes=classes)\n"
            "    time.sleep(0.01)\n"
            "print(f\"trained 15 epochs in {time.perf_counter() - start:.2f} s\")",
            "for batch in auto_tqdm(range(0, len(X), 200), desc=\"scoring\"):\n"
            "    clf.predict(X[batch:batch + 200])\n"
            "print(\"accuracy\", round(clf.score(X, y), 6))",
            "%timeit -n 3 -r 3 clf.predict(X[:200])",
            "%time forest = RandomForestClassifier(n_estimators=30, n_jobs=2, random_state=0).fit(X, y)",
            # a stream the kernel splits into several output chunks (a flush and a pause between writes)
            "for i in range(4):\n"
            "    print(f\"fold {i}: ok\", end=\"\\n\" if i % 2 else \" \", flush=True)\n"
            "    time.sleep(0.15)\n"
            "sys.stderr.write(\"done\\n\")\n"
            "forest.score(X, y)",
        ],
        noise=["tqdm-bar", "tqdm-widget", "printed-duration", "timeit", "line-magic-time", "stream-chunking",
               "threads"],
    ),
    Notebook(
        "reprs_and_displays",
        "Object reprs, display ids and widgets",
        [
            "import ipywidgets as widgets\n"
            "import pandas as pd\n"
            "from IPython.display import HTML, display\n"
            "from sklearn.datasets import load_iris\n"
            "from sklearn.neighbors import KNeighborsClassifier\n"
            "from sklearn.preprocessing import FunctionTransformer\n"
            "\n"
            "iris = load_iris(as_frame=True)\n"
            "df = iris.frame",
            # display ids: a handle updated in place, and printed (its id is a fresh uuid)
            "handle = display(df.head(), display_id=True)\n"
            "handle.update(df.describe())\n"
            "print(handle)",
            "slider = widgets.IntSlider(value=5, min=1, max=15, description=\"neighbours\")\n"
            "slider",
            "progress = widgets.IntProgress(min=0, max=10, description=\"fitting\")\n"
            "display(progress)\n"
            "for i in range(10):\n"
            "    progress.value = i + 1\n"
            "print(progress, slider.model_id)",
            "knn = KNeighborsClassifier(n_neighbors=slider.value).fit(iris.data, iris.target)\n"
            "knn",
            # reprs with memory addresses: a plain object, a lambda inside an estimator, a bound method
            "class Cache:\n"
            "    pass\n"
            "\n"
            "log1p = FunctionTransformer(lambda v: v + 1)\n"
            "print(Cache())\n"
            "print(log1p)\n"
            "print(knn.predict)\n"
            "log1p",
            "HTML(f\"<b>accuracy {knn.score(iris.data, iris.target):.4f}</b>\")",
        ],
        noise=["display-id", "widget-output", "widget-model-id", "estimator-html-ids", "object-address",
               "function-address"],
    ),
    Notebook(
        "warnings_and_paths",
        "Warnings and tracebacks from the notebook and from libraries",
        [
            "import os\n"
            "import tempfile\n"
            "import traceback\n"
            "import warnings\n"
            "import numpy as np\n"
            "from sklearn.datasets import make_classification\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "\n"
            "warnings.simplefilter(\"always\")\n"
            "X, y = make_classification(n_samples=200, n_features=8, random_state=0)",
            # a library warning: printed with the install path of scikit-learn and a line number
            "model = LogisticRegression(max_iter=3).fit(X, y)\n"
            "model.coef_.round(6)",
            # a warning from the notebook itself: printed with the kernel's temporary cell file name
            "def check(data):\n"
            "    if len(data) < 500:\n"
            "        warnings.warn(f\"only {len(data)} samples\", UserWarning)\n"
            "    return data\n"
            "\n"
            "check(X).shape",
            "np.log(np.array([0.0, 1.0, np.e]))",
            # a handled exception's traceback: cell files, library files, line numbers
            "try:\n"
            "    LogisticRegression(C=-1.0).fit(X, y)\n"
            "except ValueError:\n"
            "    traceback.print_exc()",
            # a temporary file: its name is random, its content is the same
            "with tempfile.NamedTemporaryFile(\"w\", suffix=\".csv\", delete=False) as handle:\n"
            "    np.savetxt(handle, X[:20], delimiter=\",\")\n"
            "print(\"saved a sample to\", handle.name)\n"
            "sample = np.loadtxt(handle.name, delimiter=\",\")\n"
            "os.remove(handle.name)\n"
            "import sklearn\n"
            "print(\"scikit-learn from\", os.path.dirname(sklearn.__file__))\n"
            "sample.sum().round(6)",
        ],
        noise=["library-warning-path", "cell-file-warning", "traceback-paths", "temporary-file-name",
               "install-path"],
    ),
    Notebook(
        "experiment_log",
        "An experiment log with a worker id that only the project's own rule can normalise",
        [
            "import os\n"
            "from sklearn.datasets import load_iris\n"
            "from sklearn.tree import DecisionTreeClassifier\n"
            "\n"
            "print(f\"[worker {os.getpid()}] experiment started\")",
            "X, y = load_iris(return_X_y=True)\n"
            "tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)\n"
            "print(f\"[worker {os.getpid()}] depth {tree.get_depth()}, accuracy {tree.score(X, y):.4f}\")",
        ],
        noise=["user-rule"],
        pyproject='[tool.reprotrack]\nnormalise = [["\\\\[worker [0-9]+\\\\]", "[worker N]"]]\n',
    ),
]

REAL = [
    Notebook(
        "unseeded_forest",
        "A random forest without random_state",
        [
            "from sklearn.datasets import load_wine\n"
            "from sklearn.ensemble import RandomForestClassifier\n"
            "from sklearn.model_selection import train_test_split\n"
            "\n"
            "X, y = load_wine(return_X_y=True)\n"
            "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)",
            "forest = RandomForestClassifier(n_estimators=25)\n"
            "forest.fit(X_train, y_train)\n"
            "print(\"importances\", forest.feature_importances_.round(5))",
            "print(\"test accuracy\", forest.score(X_test, y_test))",
        ],
        expect=(1, "randomness", "unseeded-randomness", "RandomForestClassifier"),
    ),
    Notebook(
        "unseeded_kmeans",
        "KMeans with several inits and no random_state",
        [
            "import numpy as np\n"
            "from sklearn.cluster import KMeans\n"
            "\n"
            "rng = np.random.default_rng(7)\n"
            "X = rng.uniform(size=(400, 2))",
            "km = KMeans(n_clusters=9, n_init=4).fit(X)\n"
            "print(\"inertia\", km.inertia_)",
            "np.bincount(km.labels_)",
        ],
        expect=(1, "randomness", "unseeded-randomness", "KMeans"),
    ),
    Notebook(
        "unseeded_scoring",
        "A scoring helper that samples: silhouette_score(sample_size=...) without random_state",
        [
            "from sklearn.cluster import KMeans\n"
            "from sklearn.datasets import make_blobs\n"
            "from sklearn.metrics import silhouette_score\n"
            "\n"
            "X, _ = make_blobs(n_samples=500, centers=5, cluster_std=2.0, random_state=0)\n"
            "labels = KMeans(n_clusters=5, n_init=3, random_state=0).fit_predict(X)",
            "score = silhouette_score(X, labels, sample_size=100)\n"
            "print(f\"silhouette on a sample: {score:.6f}\")",
        ],
        expect=(1, "randomness", "unseeded-randomness", "silhouette_score"),
    ),
    Notebook(
        "time_budget",
        "A model chosen by the clock: training stops when the time budget is spent",
        [
            "import time\n"
            "import numpy as np\n"
            "from sklearn.datasets import make_regression\n"
            "\n"
            "X, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)\n"
            "X = (X - X.mean(axis=0)) / X.std(axis=0)",
            # gradient descent until 0.3 s are spent: how far it gets depends on the machine's speed right now
            "w = np.zeros(X.shape[1])\n"
            "steps = 0\n"
            "deadline = time.perf_counter() + 0.3\n"
            "while time.perf_counter() < deadline:\n"
            "    w -= 1e-5 * X.T @ (X @ w - y) / len(y)\n"
            "    steps += 1\n"
            "print(\"coefficients\", w)",
            "float(np.mean((X @ w - y) ** 2))",
        ],
        expect=(1, "output", "unexplained", "seeds"),
    ),
    Notebook(
        "hash_order",
        "Features picked from a set: the order depends on the process's string hashing",
        [
            "from sklearn.datasets import load_diabetes\n"
            "from sklearn.linear_model import LinearRegression\n"
            "\n"
            "data = load_diabetes(as_frame=True)\n"
            "frame = data.frame",
            "candidates = set(data.feature_names)\n"
            "chosen = list(candidates)[:3]\n"
            "model = LinearRegression().fit(frame[chosen], frame[\"target\"])\n"
            "print(\"r2 with three features\", model.score(frame[chosen], frame[\"target\"]))",
        ],
        expect=(1, "output", "unexplained", "seeds"),
    ),
    Notebook(
        "flaky_search",
        "A search that fails on an unlucky split",
        [
            "import numpy as np\n"
            "from sklearn.datasets import make_classification\n"
            "from sklearn.model_selection import GridSearchCV, train_test_split\n"
            "from sklearn.svm import SVC\n"
            "\n"
            "THRESHOLD = 0.77  # what the research run reached\n"
            "X, y = make_classification(n_samples=120, n_features=6, flip_y=0.15, class_sep=0.8, random_state=3)",
            "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3)",
            "search = GridSearchCV(SVC(), {\"C\": [0.1, 1.0, 10.0]}, cv=3).fit(X_train, y_train)\n"
            "test_score = search.score(X_test, y_test)\n"
            "if test_score < THRESHOLD:\n"
            "    raise RuntimeError(f\"no candidate reached {THRESHOLD} on the test set (best {test_score:.4f})\")\n"
            "print(\"test score\", round(test_score, 4))",
        ],
        expect=(2, "execution", "cell-error", "unseeded-randomness"),
        note="the split cell draws unseeded randomness; the search fails on some splits only",
    ),
]

DATASET_LOADER = (
    "import os\n"
    "import pandas as pd\n"
    "import sklearn\n"
    "\n"
    "class Dataset(dict):\n"
    "    \"\"\"statsmodels' dataset shape: a dict whose keys are also attributes.\"\"\"\n"
    "    def __init__(self, **kw):\n"
    "        dict.__init__(self, kw)\n"
    "        self.__dict__ = self\n"
    "\n"
    "def load_wine_dataset():\n"
    "    \"\"\"A library-style loader: reads the CSV shipped inside the installed package.\"\"\"\n"
    "    path = os.path.join(os.path.dirname(sklearn.__file__), \"datasets\", \"data\", \"wine_data.csv\")\n"
    "    data = pd.read_csv(path, skiprows=1, header=None)\n"
    "    return Dataset(data=data, endog=data[13], exog=data.iloc[:, :13], names=[str(c) for c in data.columns])"
)

IMPORT_WHERE_USED = [
    Notebook(
        "gallery_digits",
        "Digits, gallery style: each library imported in the cell that uses it",
        [
            "from sklearn.datasets import load_digits\n"
            "digits = load_digits()\n"
            "print(digits.data.shape, digits.target.shape)",
            "from sklearn.model_selection import train_test_split\n"
            "X_train, X_test, y_train, y_test = train_test_split(digits.data, digits.target, test_size=0.25,\n"
            "                                                    random_state=42)",
            "from sklearn.ensemble import RandomForestClassifier\n"
            "forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X_train, y_train)\n"
            "print(\"forest accuracy\", round(forest.score(X_test, y_test), 4))",
            "from sklearn.pipeline import make_pipeline\n"
            "from sklearn.preprocessing import StandardScaler\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X_train, y_train)\n"
            "print(\"pipeline accuracy\", round(pipe.score(X_test, y_test), 4))",
        ],
        noise=["import-in-cell"],
    ),
    Notebook(
        "gallery_wine_dataset",
        "Wine from a statsmodels-like Dataset loader reading a CSV inside an installed package",
        [
            DATASET_LOADER,
            "wine = load_wine_dataset()\n"
            "print(wine.exog.shape)",
            "import numpy as np\n"
            "from sklearn.model_selection import KFold, cross_val_score\n"
            "from sklearn.pipeline import make_pipeline\n"
            "from sklearn.preprocessing import StandardScaler\n"
            "from sklearn.svm import SVC\n"
            "scores = cross_val_score(make_pipeline(StandardScaler(), SVC()), wine.exog, wine.endog,\n"
            "                         cv=KFold(5, shuffle=True, random_state=1))\n"
            "print(\"cv accuracy\", np.round(scores, 4))",
        ],
        noise=["import-in-cell", "package-data-file"],
    ),
]

#: The import-where-used notebook that hides one unseeded estimator, imported and fitted in one cell.
IMPORT_WHERE_USED_REAL = [
    Notebook(
        "gallery_unseeded_trees",
        "Seeded and unseeded estimators imported and fitted in one cell",
        [
            "from sklearn.datasets import load_breast_cancer\n"
            "from sklearn.model_selection import train_test_split\n"
            "data = load_breast_cancer()\n"
            "X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, random_state=0)",
            "from sklearn.linear_model import SGDClassifier\n"
            "from sklearn.ensemble import ExtraTreesClassifier\n"
            "sgd = SGDClassifier(random_state=0).fit(X_train, y_train)\n"
            "trees = ExtraTreesClassifier(n_estimators=15).fit(X_train, y_train)\n"
            "print(\"importances\", trees.feature_importances_.round(5))",
        ],
        expect=(1, "randomness", "unseeded-randomness", "ExtraTreesClassifier"),
    ),
]
CLEAN += IMPORT_WHERE_USED
REAL += IMPORT_WHERE_USED_REAL

#: A staging kernel's start-up file (``$IPYTHONDIR/profile_default/startup``) that imports scikit-learn
#: before anything runs: what the lock records must not depend on it.
STARTUP_IMPORTS = "import sklearn.ensemble, sklearn.model_selection, sklearn.linear_model, pandas\n"
#: ... and one that also perturbs what the loaders return (17 rows lost in transfer).
STARTUP_PERTURBS = STARTUP_IMPORTS + (
    "import sklearn.datasets\n"
    "_load_digits = sklearn.datasets.load_digits\n"
    "def _fewer_digits(*args, **kwargs):\n"
    "    bunch = _load_digits(*args, **kwargs)\n"
    "    for key in (\"data\", \"target\", \"images\"):\n"
    "        bunch[key] = bunch[key][:-17]\n"
    "    return bunch\n"
    "sklearn.datasets.load_digits = _fewer_digits\n"
    "_read_csv = pandas.read_csv\n"
    "def _nudged(*args, **kwargs):\n"
    "    frame = _read_csv(*args, **kwargs)\n"
    "    frame.iloc[::7, 0] += 0.5\n"
    "    return frame\n"
    "pandas.read_csv = _nudged\n"
)


@dataclass
class Variant:
    """An import-where-used notebook edited after its research run, and what verify must say."""

    name: str
    base: str
    #: code cell index → new source (the research run ran the base's source)
    edits: dict[int, str] = field(default_factory=dict)
    #: (code cell index it is inserted before, source): a cell the research run never ran
    insert: tuple[int, str] | None = None
    #: the staging kernel's start-up file
    startup: str = ""
    #: (code cell index of the root, kind, cause, words the root or a finding at that cell names); None:
    #: reproduced with no finding at all. ``cause`` may list alternatives (``seed-changed|unseeded-randomness``)
    expect: tuple[int, str, str, str] | None = None
    #: other causes that must be found at that cell too (the split a removed seed changed)
    also: tuple[str, ...] = ()
    #: why the expectation cannot hold yet (the test is then an expected failure, not strict)
    pending: str = ""


def _without(base: str, cell: int, old: str, new: str) -> str:
    source = NOTEBOOKS[base].cells[cell]
    assert old in source, (base, cell, old)
    return source.replace(old, new)


NOTEBOOKS = {nb.name: nb for nb in CLEAN + REAL}

VARIANTS = [
    Variant("digits_staging_imports_sklearn", "gallery_digits", startup=STARTUP_IMPORTS),
    Variant("digits_forest_seed_removed", "gallery_digits",
            edits={2: _without("gallery_digits", 2, ", random_state=0)", ")")},
            expect=(2, "randomness", "seed-changed|unseeded-randomness", "RandomForestClassifier")),
    Variant("digits_split_seed_removed", "gallery_digits",
            edits={1: _without("gallery_digits", 1, ",\n                                                    random_state=42)",
                               ")")},
            expect=(1, "randomness", "seed-changed|unseeded-randomness", "train_test_split"), also=("split-changed",)),
    Variant("digits_loader_perturbed", "gallery_digits", startup=STARTUP_PERTURBS,
            expect=(0, "data", "rows-removed", "digits.target")),
    Variant("digits_cell_inserted", "gallery_digits",
            insert=(1, "digits.target[::9] = 0  # relabel some digits"),
            expect=(1, "execution", "cell-added", "cell 3")),  # cell 3 as the notebook UI numbers it
    Variant("wine_staging_imports_sklearn", "gallery_wine_dataset", startup=STARTUP_IMPORTS),
    Variant("wine_loader_perturbed", "gallery_wine_dataset", startup=STARTUP_PERTURBS,
            expect=(1, "data", "values-changed", "wine.data")),
]


def build(notebook: Notebook) -> nbformat.NotebookNode:
    """The .ipynb of one corpus notebook: a title cell, then its code cells with stable ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    title = nbformat.v4.new_markdown_cell(f"# {notebook.title}")
    title.id = "title"
    nb.cells.append(title)
    for i, source in enumerate(notebook.cells):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"{notebook.name.replace('_', '-')}-{i}"
        nb.cells.append(cell)
    return nb


def text(notebook: Notebook) -> str:
    return nbformat.writes(build(notebook)) + "\n"


def main(argv: list[str]) -> int:
    for notebook in NOTEBOOKS.values():
        (HERE / f"{notebook.name}.ipynb").write_text(text(notebook), encoding="utf-8")
    print(f"wrote {len(NOTEBOOKS)} notebooks to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
