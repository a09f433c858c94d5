"""How the torchrun test workers end: together, and without torch's gloo teardown.

Two failures were seen at interpreter exit after a worker had written its results:
- a gloo process group still alive when the interpreter shuts down makes one of its threads
  call ``std::terminate`` ("terminate called without an active exception");
- a group torn down by a DDP ``Reducer`` (Lightning's and accelerate's wrapped models hold
  one) deadlocks: the Reducer's destructor holds the GIL while it joins the group's worker
  thread, and that thread needs the GIL to free a tensor of the last collective
  (pytorch/pytorch#56297). One run in three hung this way on a loaded machine.
So every rank meets a barrier (both are out of their last collective), the group is
destroyed, output is flushed, and the process leaves with ``os._exit``: the results are
already on disk, and no destructor of torch's distributed objects runs.
"""

from __future__ import annotations

import os
import sys


def finish() -> None:
    """Barrier, destroy the default group, flush, and exit 0 without running destructors."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
