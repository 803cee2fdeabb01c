"""Which distribution owns which module is computed once per process, and again when a ``sys.path`` folder
changes (a ``pip install`` run in a cell)."""

from __future__ import annotations

import sys

from reprotrack.kernel.capture import environment


def fake_distribution(folder, name: str, version: str) -> None:
    (folder / f"{name}.py").write_text("")
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{name}.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")


def test_installed_mid_session_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    fake_distribution(tmp_path, "rtfakeone", "1.0")
    assert environment.imported_distributions({"rtfakeone": object()}) == {"rtfakeone": "1.0"}
    owners = environment.distribution_owners()
    assert environment.distribution_owners() is owners  # cached: nothing changed
    fake_distribution(tmp_path, "rtfaketwo", "2.0")  # "pip install" in a cell: the folder changes
    found = environment.imported_distributions({"rtfakeone": object(), "rtfaketwo": object()})
    assert found == {"rtfakeone": "1.0", "rtfaketwo": "2.0"}


def test_a_file_written_next_to_the_notebook_keeps_the_cache(tmp_path, monkeypatch):
    """A kernel's ``sys.path[0]`` is the notebook's folder, where notebooks write their results: that is not
    an installation, and computing the owners again cost ~0.3 s of every save."""
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    owners = environment.distribution_owners()
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    (tmp_path / "model_dir").mkdir()
    assert environment.distribution_owners() is owners
    fake_distribution(tmp_path, "rtfakethree", "3.0")
    assert environment.distribution_owners() is not owners


def test_the_fast_owners_are_the_standard_ones_with_canonical_names(tmp_path, monkeypatch):
    import re
    from importlib import metadata

    from reprotrack.kernel.capture import owners

    def canonical(found):
        return {k: sorted(re.sub(r"[-_.]+", "-", n).lower() for n in v) for k, v in found.items()}

    # every distribution installed here: the same owners as the standard library finds
    assert canonical(owners.packages_distributions()) == canonical(metadata.packages_distributions())
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    info = tmp_path / "rt_undeclared-1.0.dist-info"  # no top_level.txt: inferred from RECORD (quoted paths too)
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rt-undeclared\nVersion: 1.0\n")
    (info / "RECORD").write_text('rtpkg/__init__.py,,\n"rtpkg/a,b.py",sha256=x,1\nrtsingle.py,,\ndata.txt,,\n')
    fast = canonical(owners.packages_distributions())
    assert fast["rtpkg"] == fast["rtsingle"] == ["rt-undeclared"] and "data" not in fast
