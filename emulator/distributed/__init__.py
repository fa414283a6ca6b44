"""The chain on a Dask cluster: the replay executor and the studies' passes (docs/dask.md).

Dask itself is imported only when a session opens (``pip install 'l1emu[dask]'``).
"""

from __future__ import annotations

from emulator.distributed.executor import DaskExecutor, DaskPasses, SinkColumns, partition_error, plan_source
from emulator.distributed.tasks import ColumnsExtract, PartitionOutput, PartitionTask, PipelineSpec, run_partition

__all__ = [
    "ColumnsExtract",
    "DaskExecutor",
    "DaskPasses",
    "PartitionOutput",
    "PartitionTask",
    "PipelineSpec",
    "SinkColumns",
    "partition_error",
    "plan_source",
    "run_partition",
]
