"""Child processes that never outlive their parent.

Every child is started in its own process group with ``PR_SET_PDEATHSIG`` = SIGKILL, so the kernel
kills it when the parent dies, even when the parent itself was killed with SIGKILL. A clean stop
sends SIGTERM to the child's whole group and escalates to SIGKILL after a grace period.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:  # runs in the child between fork and exec
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died before prctl took effect: then we have been re-parented already.
    if os.getppid() != parent_pid:
        os._exit(1)


def spawn(argv: Sequence[str], **popen_kwargs) -> subprocess.Popen:
    """Start ``argv`` as a child that dies with this process (see module docstring).

    PDEATHSIG fires when the *thread* that forked the child exits, so call this from a thread that
    lives as long as the child should (the main thread in every watchfloor command).
    """
    parent = os.getpid()
    return subprocess.Popen(list(argv), preexec_fn=lambda: _die_with_parent(parent), **popen_kwargs)


def stop(proc: subprocess.Popen, grace_secs: float = 10.0) -> int | None:
    """SIGTERM the child's process group, wait up to ``grace_secs``, then SIGKILL it."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_secs)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=5)
    else:
        # The leader exited; make sure nothing it started in its group lingers.
        _signal_group(proc, signal.SIGKILL)
    return proc.returncode


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for(predicate, timeout_secs: float, interval_secs: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout_secs
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout_secs:.0f}s waiting for {what}")
        time.sleep(interval_secs)
