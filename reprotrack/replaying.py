"""The name the replay driver injects into a staging kernel (``__import__('reprotrack.replaying')``).

Kept as a shim so that a driver and a kernel of different reprotrack versions still meet; the agent itself
lives in ``reprotrack.replay.agent``.
"""

from reprotrack.replay.agent import finish, pause, read_partial, setup

__all__ = ["setup", "pause", "finish", "read_partial"]
