"""The base exception of the command-line layer: anything raised as ``WatchfloorError`` is printed as
one line on stderr with exit status 2, never as a traceback."""


class WatchfloorError(Exception):
    """An error a user can act on; its message is one line naming the thing and the reason."""


class ConfigError(WatchfloorError):
    """A setting, config file or rule pack is invalid."""
