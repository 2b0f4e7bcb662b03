"""watchfloor, the shell: the command line, process supervision, the embedded broker, the demo and the
benchmarks. Nothing imports it; the services live in ``connectors/``, ``streams/`` and ``desk/`` on
top of ``core/`` and ``schemas/``."""

from core import __version__

__all__ = ["__version__"]
