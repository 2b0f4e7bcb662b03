"""No fixtures here: only an import repair.

``tests/streams/__init__.py`` makes pytest (prepend import mode) bind the name ``streams`` to the
*test* package ``tests/streams``, which hides every submodule of the real ``streams`` package that
was not imported before (``streams.rules`` among them). Adding the real directory to that package's
search path makes ``import streams.rules`` find the real rule engine again; a regular package wins
over the namespace directory ``tests/streams/rules``. Remove this once that ``__init__.py`` is gone.
"""

import sys
from pathlib import Path

_REAL_STREAMS = str(Path(__file__).resolve().parents[3] / "streams")
_bound = sys.modules.get("streams")
if _bound is not None and _REAL_STREAMS not in list(getattr(_bound, "__path__", [])):
    _bound.__path__.append(_REAL_STREAMS)
