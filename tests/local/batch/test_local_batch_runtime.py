"""The emulator's records of Batch entities: stored beside the documents, never in them."""

from __future__ import annotations

from pathlib import Path

from runner.local.batch.runtime import AutoPool
from runner.local.batch.state import JOB, NODE, POOL, TASK, BatchState
from runner.local.store import Store


def _pool(pool_id: str) -> dict[str, object]:
    return {"id": pool_id, "state": "active", "allocationState": "steady"}


def test_records_are_stored_beside_the_documents_and_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    state = BatchState(store, "acct")
    state.pools["p"] = _pool("p")
    record = state.pool_runtime("p")
    record.node_seq, record.auto_pool = 3, AutoPool("job", False)
    state.save_pool(state.pools["p"])
    state.jobs["j"] = {"id": "j", "state": "active"}
    state.tasks["j"] = {"t": {"id": "t", "state": "completed"}}
    state.task_runtime("j", "t").seq = state.take_seq()
    state.save_task("j", state.tasks["j"]["t"])
    state.flush()

    assert store.get(POOL, "p") == {
        "doc": _pool("p"),
        "runtime": {
            "nodeSeq": 3,
            "steadyAt": None,
            "goneAt": None,
            "remove": None,
            "deallocation": None,
            "autoPool": {"lifetime": "job", "keepAlive": False},
        },
    }
    again = BatchState(store, "acct")
    assert again.pools["p"] == _pool("p")
    assert again.pool_runtime("p").node_seq == 3
    assert again.pool_runtime("p").auto_pool == AutoPool("job", False)
    assert again.tasks["j"]["t"] == {"id": "t", "state": "completed"}
    assert again.next_seq == 2


def test_a_state_folder_that_kept_them_in_the_documents_is_split_on_load(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "state.sqlite3")
    store.put(
        POOL,
        "p",
        {
            **_pool("p"),
            "_nodeSeq": 2,
            "_removing": True,
            "_autoPool": {"lifetime": "job", "keepAlive": True},
        },
    )
    store.put(NODE, "p/n", {"id": "n", "state": "idle", "_users": {"u": {"name": "u"}}})
    store.put(JOB, "j", {"id": "j", "state": "active", "_started": 5.0})
    store.put(TASK, "j/t", {"id": "t", "state": "completed", "_seq": 7, "_stop": "requeue"})

    state = BatchState(store, "acct")

    assert state.pools["p"] == _pool("p")
    assert state.pool_runtime("p").node_seq == 2
    assert not state.pool_runtime("p").removing  # an interrupted removal starts again
    assert state.pool_runtime("p").auto_pool == AutoPool("job", True)
    assert "_users" not in state.nodes["p"]["n"]
    assert state.node_runtime("p", "n").users == {"u": {"name": "u"}}
    assert state.jobs["j"] == {"id": "j", "state": "active"}
    assert state.job_runtime("j").started == 5.0
    assert state.tasks["j"]["t"] == {"id": "t", "state": "completed"}
    assert state.task_runtime("j", "t").seq == 7
    assert state.next_seq == 8
