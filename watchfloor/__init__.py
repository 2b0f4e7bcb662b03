"""watchfloor: command line, settings and process supervision. Domain logic lives in
``connectors/``, ``streams/`` and ``schemas/``."""

__version__ = "0.1.0"
