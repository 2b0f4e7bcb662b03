"""Re-export of the shared ``wait_until`` that works whether ``tests/`` is a package or a rootdir."""

try:
    from tests.conftest import wait_until
except ImportError:  # tests/ without __init__.py: pytest puts it on sys.path instead
    from conftest import wait_until

__all__ = ["wait_until"]
