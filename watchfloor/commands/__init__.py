"""Command groups of the ``watchfloor`` CLI, one module each (see ``watchfloor.cli``)."""
