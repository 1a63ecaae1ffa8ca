"""The Batch account as its handlers see it: state, scheduler, node folders and faults.

Built once by ``app.create_batch_app`` and handed to every handler as its first argument,
as Azurite's request-listener factory hands its handlers their stores.
"""

from __future__ import annotations

from pathlib import Path

from runner.local.batch.scheduler import Scheduler
from runner.local.batch.state import BatchState, DocStore
from runner.local.faults import FaultInjector
from runner.local.nodes.container_run import Engine
from runner.local.transitions import Progressions


class BatchService:
    def __init__(
        self,
        store: DocStore,
        state_dir: Path,
        *,
        account: str,
        key: str,
        subscription: str,
        faults: FaultInjector,
        progressions: Progressions | None = None,
        engine: Engine | None = None,
        autoscale_speedup: float = 300.0,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.account = account
        self.key = key
        self.faults = faults
        self.state = BatchState(store, account, subscription)
        self.scheduler = Scheduler(
            self.state,
            self.state_dir,
            progressions,
            engine,
            faults=faults,
            autoscale_speedup=autoscale_speedup,
        )

    def start(self) -> None:
        self.state.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.state.stop()
