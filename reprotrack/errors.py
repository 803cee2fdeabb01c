"""The one exception hierarchy of reprotrack.

Every error a user can cause (a bad path, a corrupt lock, a wrong option) is a ``ReprotrackError`` whose
message is one sentence saying what was wrong and what to do. The CLI prints that sentence on stderr and
exits 2; nothing else in the package prints tracebacks at users.
"""


class ReprotrackError(Exception):
    """Base class: bad input or usage (CLI exit code 2)."""

    exit_code = 2


class LockfileError(ReprotrackError):
    """A lockfile that cannot be read: missing, not JSON, wrong shape, unknown major version."""


class UsageError(ReprotrackError):
    """A command or magic was called with arguments that make no sense."""


class ExecutionError(ReprotrackError):
    """The notebook could not be executed at all (kernel would not start, died, timed out)."""

    exit_code = 3
