"""The workspace lock: one apply at a time, holder named, stale locks taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runner.engine.lock import WorkspaceLock
from runner.errors import LockError


def test_second_holder_fails_fast_naming_the_first(tmp_path: Path) -> None:
    first = WorkspaceLock("demo", command="runner apply a.yaml", root=tmp_path)
    with first, pytest.raises(LockError) as info:
        WorkspaceLock("demo", command="runner apply b.yaml", root=tmp_path).acquire()
    message = str(info.value)
    assert f"pid {os.getpid()}" in message
    assert socket.gethostname() in message
    assert "runner apply a.yaml" in message


def test_lock_is_free_again_after_release(tmp_path: Path) -> None:
    with WorkspaceLock("demo", root=tmp_path):
        pass
    with WorkspaceLock("demo", root=tmp_path) as again:
        assert again.holder()["pid"] == os.getpid()  # type: ignore[index]


def test_other_workspaces_are_not_blocked(tmp_path: Path) -> None:
    with WorkspaceLock("one", root=tmp_path) as one, WorkspaceLock("two", root=tmp_path) as two:
        assert one.path != two.path
        assert one.holder()["pid"] == two.holder()["pid"] == os.getpid()  # type: ignore[index]
        with pytest.raises(LockError):
            WorkspaceLock("one", root=tmp_path).acquire()  # each still excludes its own


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock = WorkspaceLock("demo", root=tmp_path)
    lock.path.parent.mkdir(parents=True)
    lock.path.write_text(
        json.dumps(
            {
                "pid": int(dead.stdout),
                "host": socket.gethostname(),
                "command": "runner apply old.yaml",
            }
        )
    )
    with lock:
        assert lock.holder()["pid"] == os.getpid()  # type: ignore[index]


def test_lock_held_by_another_process_names_it(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from runner.engine.lock import WorkspaceLock;"
        f"l = WorkspaceLock('demo', command='runner apply other.yaml', "
        f"root=Path({str(tmp_path)!r}));"
        "l.acquire(); print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError, match=f"pid {holder.pid} .*runner apply other.yaml"):
            WorkspaceLock("demo", root=tmp_path).acquire()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    # The holder exited: its lock goes with it.
    with WorkspaceLock("demo", root=tmp_path) as taken:
        assert taken.holder()["pid"] == os.getpid()  # type: ignore[index]
