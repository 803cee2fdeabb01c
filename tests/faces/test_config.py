"""[tool.reprotrack] options: found upwards, overridden by the command line, wrong values refused with the
file and key named."""

from __future__ import annotations

import pytest

from reprotrack.config import find_pyproject, load_options
from reprotrack.core.diff import DiffOptions
from reprotrack.errors import UsageError


def test_defaults_without_a_pyproject(tmp_path):
    assert find_pyproject(tmp_path) is None or find_pyproject(tmp_path).parent != tmp_path
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_options(tmp_path) == DiffOptions()


def test_nearest_pyproject_upwards_and_command_line_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.reprotrack]\nrtol = 1e-3\natol = 0\nenv-policy = 'patch'\nignore-packages = ['tqdm']\n"
        "order = 'notebook'\nnormalise = [['run-[0-9]+', 'run-N']]\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    options = load_options(deep)
    assert options == DiffOptions(rtol=1e-3, atol=0.0, env_policy="patch", ignore_packages=("tqdm",),
                                  order="notebook", normalise=(("run-[0-9]+", "run-N"),))
    assert load_options(deep, rtol=0.5, atol=None).rtol == 0.5
    assert load_options(deep / "nb.ipynb").env_policy == "patch"


@pytest.mark.parametrize("body, words", [
    ("rtol = -1", "rtol"),
    ("rtol = 'x'", "rtol"),
    ("env-policy = 'loose'", "env-policy"),
    ("order = 'random'", "order"),
    ("ignore-packages = 'numpy'", "ignore-packages"),
    ("normalise = [['(', 'x']]", "normalise"),
    ("normalise = ['x']", "normalise"),
])
def test_wrong_values_are_usage_errors_naming_the_key(tmp_path, body, words):
    (tmp_path / "pyproject.toml").write_text(f"[tool.reprotrack]\n{body}\n")
    with pytest.raises(UsageError, match=words):
        load_options(tmp_path)


def test_keys_for_other_parts_of_the_tracker_are_left_alone_but_unknown_overrides_are_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.reprotrack]\nmax-bytes = 10\nrtol = 0.1\n")
    assert load_options(tmp_path).rtol == 0.1
    with pytest.raises(UsageError, match="unknown option"):
        load_options(tmp_path, tolerance=1)


def test_invalid_toml_is_a_usage_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.reprotrack\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_options(tmp_path)
