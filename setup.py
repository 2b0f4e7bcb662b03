"""The one thing pyproject.toml cannot say: the rule engine's optional C loops
(``streams/rules/_native.c``). ``optional=True``: without a C compiler the package installs without
them and the engine runs its pure-Python twins (``streams/rules/native.py``)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(f"streams.rules.{name}", [f"streams/rules/{name}.c"], optional=True,
                             extra_compile_args=["-O2"])
                   for name in ("_native", "_terms")])
