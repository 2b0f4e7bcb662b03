"""No tansu process outlives its parent: not on Ctrl-C, not on SIGTERM, not when the parent is
SIGKILLed (the kernel's parent-death signal does it then)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from watchfloor.broker import free_port, metadata_ok
from watchfloor.procs import wait_for


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc (children files list direct children per thread)."""
    found: set[int] = set()
    stack = [pid]
    while stack:
        current = stack.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                if kid not in found:
                    found.add(kid)
                    stack.append(kid)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _as_in_a_terminal() -> None:
    # A shell without job control starts background commands with SIGINT ignored, and children inherit
    # that: a suite run that way would see a broker deaf to Ctrl-C. In a terminal SIGINT is not ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_broker_command(port: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "broker", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=_as_in_a_terminal,
    )
    line = proc.stdout.readline().strip()
    assert line == f"127.0.0.1:{port}", f"watchfloor broker printed {line!r}"
    assert metadata_ok(line), "the broker answered no metadata request after printing its address"
    kids = descendants(proc.pid)
    assert len(kids) == 1, f"expected one tansu child, found {kids}"
    return proc, kids.pop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"])
def test_broker_leaves_no_process_behind_when_its_parent_stops(sig):
    port = free_port()
    proc, tansu_pid = start_broker_command(port)
    assert "tansu" in Path(f"/proc/{tansu_pid}/cmdline").read_text()
    proc.send_signal(sig)
    proc.wait(timeout=20)
    wait_for(lambda: not alive(tansu_pid), timeout_secs=10, what=f"tansu pid {tansu_pid} to exit")
    wait_for(lambda: not metadata_ok(f"127.0.0.1:{port}", 0.5), timeout_secs=5, what="the port to close")
    if sig != signal.SIGKILL:
        assert proc.returncode == 0
