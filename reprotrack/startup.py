"""Auto-enable: register ``%reprotrack`` in every IPython shell of an environment reprotrack is installed in.

The wheel ships ``jupyter-config/ipython/startup/50-reprotrack.py`` into ``<sys.prefix>/etc/ipython/startup/``
(hatchling ``shared-data``). IPython (since 5.4/6.1) runs the ``*.py`` files of that folder, after the
profile's own ``startup`` folder is collected, in every ``IPKernelApp`` and terminal ``ipython`` whose
``sys.prefix`` is this environment. That file is a few lines that call ``autoload()`` here, so the logic
stays in the package (an editable install picks up changes) and the shipped file never changes.

What it must never do: raise (IPython runs all startup files in one ``try`` — one failure skips the user's
later ones), print (it runs before a frontend is attached), start tracking (only ``%reprotrack start``
does), or mark the extension loaded (then a notebook's own ``%load_ext reprotrack`` would print
"already loaded" into every research notebook's output).
"""

from __future__ import annotations

import os
from typing import Any, Mapping

#: The opt-out variable: ``REPROTRACK_AUTOLOAD=0`` (or false/no/off) leaves IPython untouched.
OPT_OUT_VARIABLE = "REPROTRACK_AUTOLOAD"
_OFF = frozenset({"0", "false", "no", "off"})


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """False when the user opted out through ``REPROTRACK_AUTOLOAD``."""
    environ = os.environ if environ is None else environ
    return environ.get(OPT_OUT_VARIABLE, "1").strip().lower() not in _OFF


def autoload(shell: Any = None, environ: Mapping[str, str] | None = None) -> bool:
    """Register the magic on ``shell`` (default: the running IPython). True if registered; never raises."""
    try:
        if not enabled(environ):
            return False
        if shell is None:
            from IPython import get_ipython

            shell = get_ipython()
        if shell is None or not hasattr(shell, "register_magics"):
            return False
        from reprotrack.kernel.magics import ReprotrackMagics

        shell.register_magics(ReprotrackMagics)
        return True
    except Exception:  # noqa: BLE001 - see the module docstring: a startup file must never raise
        return False
