"""The sandbox stops processes by PID only when the PID is still the process it started
(same start time), and takes the whole process group with it."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.servers import wait_until
from tests.sandbox.__main__ import Proc, _tree, stop_proc

#: a leader that starts a child of its own, then both wait (killed by the test)
CHILD = (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "time.sleep(600)"
)


def _spawn() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", CHILD], start_new_session=True)


def test_stop_takes_the_group_and_its_children() -> None:
    leader = _spawn()
    p = Proc.of("demo", leader.pid)
    try:
        tree: list[Proc] = []

        def both_up() -> bool:  # the leader and its child (the child starts in a moment)
            tree[:] = _tree([p])
            return len(tree) == 2

        wait_until(both_up, timeout_s=30, what="leader and child")
        assert p.alive()
        stop_proc(p)
        leader.wait(timeout=10)
        assert not p.alive()
        # the child got the group's TERM too; it exits a moment after its leader
        wait_until(lambda: not any(q.alive() for q in tree), timeout_s=30, what="the child")
    finally:
        leader.kill()


def test_a_reused_pid_is_left_alone() -> None:
    other = _spawn()
    try:
        real = Proc.of("other", other.pid)
        stale = Proc("recorded-earlier", other.pid, real.ticks - 1)  # same PID, older process
        assert not stale.alive()
        stop_proc(stale)
        assert other.poll() is None
        assert real.alive()
    finally:
        other.kill()
        other.wait(timeout=10)
