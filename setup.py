"""The one thing pyproject.toml cannot say: the optional C loops of the rule engine
(``streams/rules/_native.c``, ``_terms.c``) and of every message's timestamps (``schemas/_utc.c``).
``optional=True``: without a C compiler the package installs without them and their pure-Python twins
run (``streams/rules/native.py``, ``schemas/base.py``)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(module, [module.replace(".", "/") + ".c"], optional=True, extra_compile_args=["-O2"])
                   for module in ("streams.rules._native", "streams.rules._terms", "schemas._utc")])
