"""Command group 'bench' (being built; see the issue that owns it)."""


def register(sub) -> None:
    return None
