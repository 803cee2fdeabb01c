"""``[tool.reprotrack]`` of the nearest ``pyproject.toml``: the diff's tolerances and policies.

```toml
[tool.reprotrack]
rtol = 1e-6                 # relative tolerance for numbers (data statistics, metrics, printed numbers)
atol = 1e-9                 # absolute tolerance
env-policy = "patch"        # exact | patch | minor | major: version drift the policy allows is a warning
ignore-packages = ["tqdm"]  # never report these packages
order = "recorded"          # recorded | notebook: the order verify replays cells in
normalise = [["run-[0-9]+", "run-N"]]   # extra (regex, replacement) rules for printed output
privacy = "safe"            # values | safe | hashed: what a lock keeps of data values and printed text
```

Keys may be spelled with ``-`` or ``_``; other keys of the table belong to other parts of the tracker and are
left alone here. Command-line values (``overrides``) win over the file; ``None``
means "not given". A wrong value is a ``UsageError`` naming the file and the key (exit 2). This module does
the only file reading of the diff's options; the diff itself stays pure.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from reprotrack.core.diff.model import ENV_POLICIES, ORDERS, DiffOptions
from reprotrack.errors import UsageError

if TYPE_CHECKING:
    from reprotrack.core.diff.checkpoints import CheckOptions

KEYS = {f.name for f in fields(DiffOptions)}


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` (a folder or a file; default: the working folder)."""
    here = Path(start) if start is not None else Path.cwd()
    here = here.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_table(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("reprotrack", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.reprotrack] must be a table")
    return table


def load_options(start: Path | None = None, **overrides: Any) -> DiffOptions:
    """Options from ``[tool.reprotrack]`` of the nearest pyproject.toml upwards of ``start``, then ``overrides``."""
    path = find_pyproject(start)
    values: dict[str, Any] = {}
    if path is not None:
        for raw_key, value in read_table(path).items():
            key = str(raw_key).replace("-", "_")
            if key in KEYS:
                values[key] = value
    values.update({k.replace("-", "_"): v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise UsageError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    where = str(path) if path is not None else "options"
    return replace(DiffOptions(), **{k: _check(k, v, where) for k, v in values.items()})


def _check(key: str, value: Any, where: str) -> Any:
    if key in ("rtol", "atol"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise UsageError(f"{where}: {key} must be a finite number >= 0, not {value!r}")
        return float(value)
    if key == "env_policy":
        if value not in ENV_POLICIES:
            raise UsageError(f"{where}: env-policy must be one of {', '.join(ENV_POLICIES)}, not {value!r}")
        return value
    if key == "order":
        if value not in ORDERS:
            raise UsageError(f"{where}: order must be one of {', '.join(ORDERS)}, not {value!r}")
        return value
    if key == "ignore_packages":
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{where}: ignore-packages must be a list of package names")
        return tuple(value)
    if key == "normalise":
        rules = []
        for rule in value if isinstance(value, (list, tuple)) else [None]:
            if not (isinstance(rule, (list, tuple)) and len(rule) == 2 and all(isinstance(r, str) for r in rule)):
                raise UsageError(f"{where}: normalise must be a list of [regex, replacement] pairs")
            try:
                re.compile(rule[0])
            except re.error as exc:
                raise UsageError(f"{where}: normalise regex {rule[0]!r} is invalid: {exc}") from None
            rules.append((rule[0], rule[1]))
        return tuple(rules)
    return value


def load_privacy(start: Path | None = None) -> str | None:
    """``privacy`` of ``[tool.reprotrack]`` (None when not set): the policy a new research run records under."""
    from reprotrack.core.privacy import POLICIES

    path = find_pyproject(start)
    if path is None:
        return None
    value = read_table(path).get("privacy")
    if value is not None and value not in POLICIES:
        raise UsageError(f"{path}: privacy must be one of {', '.join(POLICIES)}, not {value!r}")
    return value


#: ``[tool.reprotrack]`` keys of ``reprotrack check`` (not ``DiffOptions``): checkpoint names and tolerances.
CHECKPOINT_KEYS = ("checkpoints", "tolerances")


def load_checkpoint_options(start: Path | None = None, *, names: dict[str, str] | None = None,
                            **overrides: Any) -> CheckOptions:
    """``CheckOptions`` of ``reprotrack check``/``run``/``assert_matches``:

    ```toml
    [tool.reprotrack]
    checkpoints = { features_v2 = "features" }      # production name = research name
    [tool.reprotrack.tolerances]
    features = { rtol = 1e-9, atol = 0.0, order = "ignore" }   # order: exact (default) | ignore
    ```

    ``names`` (``--map``) win over the file's; ``overrides`` are the run-wide ``DiffOptions`` ones."""
    from reprotrack.core.diff.checkpoints import ROW_ORDERS, CheckOptions, CheckpointRule

    path = find_pyproject(start)
    table = read_table(path) if path is not None else {}
    where = str(path) if path is not None else "options"
    mapping = table.get("checkpoints", {})
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                for k, v in mapping.items()):
        raise UsageError(f"{where}: checkpoints must be a table of production name = \"research name\"")
    rules = {}
    tolerances = table.get("tolerances", {})
    if not isinstance(tolerances, dict):
        raise UsageError(f"{where}: tolerances must be a table of checkpoint name = {{ rtol, atol, order }}")
    for name, raw in tolerances.items():
        if not isinstance(raw, dict) or set(raw) - {"rtol", "atol", "order"}:
            raise UsageError(f"{where}: tolerances.{name} must be a table with rtol, atol and/or order")
        values = {k: _check(k, v, f"{where}: tolerances.{name}") for k, v in raw.items() if k != "order"}
        order = raw.get("order", "exact")
        if order not in ROW_ORDERS:
            raise UsageError(f"{where}: tolerances.{name}.order must be one of {', '.join(ROW_ORDERS)}, not {order!r}")
        rules[str(name)] = CheckpointRule(order=order, **values)
    return CheckOptions(diff=load_options(start, **overrides), names={**mapping, **(names or {})}, rules=rules)


def load_drift_options(start: Path | None = None, columns: dict[str, dict[str, Any]] | None = None,
                       **overrides: Any):
    """Drift thresholds: defaults, then ``[tool.reprotrack.drift]`` (with a ``columns`` table of per-column
    thresholds), then ``overrides`` (the command line / API, for every column) and ``columns`` (the command
    line, per column)."""
    from reprotrack.core.drift.options import DriftOptions, Thresholds, share, thresholds

    path = find_pyproject(start)
    table = read_table(path).get("drift", {}) if path is not None else {}
    where = f"{path} [tool.reprotrack.drift]" if path is not None else "drift options"
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    table = dict(table)
    per_column = table.pop("columns", {})
    dataset = table.pop("dataset-share", table.pop("dataset_share", 0.5))
    overrides = {k: v for k, v in overrides.items() if v is not None}
    dataset = overrides.pop("dataset_share", dataset)
    defaults = thresholds(thresholds(Thresholds(), table, where), overrides, "command line")
    if not isinstance(per_column, dict):
        raise UsageError(f"{where}: columns must be a table of column name = {{threshold = value}}")
    out = {}
    for name, values in per_column.items():
        if not isinstance(values, dict):
            raise UsageError(f"{where}: columns.{name} must be a table of thresholds")
        out[str(name)] = thresholds(thresholds(defaults, values, f"{where} columns.{name}"), overrides,
                                    "command line")
    for name, values in (columns or {}).items():
        out[str(name)] = thresholds(out.get(str(name), defaults), values, f"command line ({name})")
    return DriftOptions(defaults=defaults, columns=out, dataset_share=share(dataset, where))
