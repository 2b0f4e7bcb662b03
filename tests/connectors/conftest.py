"""The connectors' tests fetch from servers on this machine, which the address policy refuses by
default (core/netpolicy.py): every test here, and every command it runs, allows loopback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LOCAL_NETWORKS


@pytest.fixture(autouse=True)
def allow_local_fetches(monkeypatch):
    monkeypatch.setenv("WATCHFLOOR_FETCH_ALLOWED_NETWORKS", json.dumps(LOCAL_NETWORKS))
