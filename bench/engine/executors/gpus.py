"""Several local workers per GPU: which GPU each worker gets, and the memory bound it keeps.

Small-data fold jobs leave a large GPU mostly idle, so ``--jobs N`` over G GPUs puts
worker i on GPU i mod G. Where workers share a GPU, each is held to an equal share of
its memory (less a tenth kept for the CUDA contexts), in each backend's own way:

- torch: ``torch.cuda.set_per_process_memory_fraction`` at worker start, from
  ``BENCH_GPU_MEMORY_FRACTION`` (see :func:`bench.train.seeding.bound_gpu_memory`);
- JAX: ``XLA_PYTHON_CLIENT_MEM_FRACTION``, no preallocation of the whole GPU;
- TensorFlow: memory allocated on demand (``TF_FORCE_GPU_ALLOW_GROWTH``) instead of all.

A share below :data:`MIN_WORKER_MIB` is refused before anything trains.
"""

from __future__ import annotations

from bench.engine.provenance import Gpu
from bench.errors import BenchError

RESERVED = 0.1  # of each GPU's memory, for the workers' CUDA contexts
MIN_WORKER_MIB = 1024  # below this even a small CNN's fit and cuDNN workspaces do not fit


def workers_on(gpu: int, *, jobs: int, gpus: int) -> int:
    """How many of ``jobs`` workers, dealt round-robin, share GPU number ``gpu``."""
    return len(range(gpu, jobs, gpus))


def gpu_env(index: int, *, jobs: int, devices: tuple[Gpu, ...]) -> dict[str, str]:
    """Environment of worker ``index``: its GPU and, when shared, its memory bound."""
    gpu = index % len(devices)
    env = {"CUDA_VISIBLE_DEVICES": devices[gpu].id}
    if jobs > len(devices):  # TensorFlow would otherwise take all of a GPU at its start
        env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    sharing = workers_on(gpu, jobs=jobs, gpus=len(devices))
    if sharing == 1:
        return env
    fraction = f"{(1 - RESERVED) / sharing:.4f}"
    return {
        **env,
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "XLA_PYTHON_CLIENT_MEM_FRACTION": fraction,
        "BENCH_GPU_MEMORY_FRACTION": fraction,
    }


def check_gpu_share(jobs: int, devices: tuple[Gpu, ...]) -> None:
    """Refuse ``--jobs`` that would leave a worker less than :data:`MIN_WORKER_MIB`."""
    for gpu, device in enumerate(devices):
        sharing = workers_on(gpu, jobs=jobs, gpus=len(devices))
        share = device.memory_mib * (1 - RESERVED) / max(sharing, 1)
        if device.memory_mib and share < MIN_WORKER_MIB:
            per_gpu = int(device.memory_mib * (1 - RESERVED) // MIN_WORKER_MIB)
            raise BenchError(
                f"--jobs {jobs} puts {sharing} workers on GPU {device.index or gpu} "
                f"({device.name or device.id}, {device.memory_mib} MiB): {share:.0f} MiB each, "
                f"below the {MIN_WORKER_MIB} MiB a worker needs; use --jobs "
                f"{per_gpu * len(devices)} or fewer"
            )


__all__ = ["check_gpu_share", "gpu_env", "workers_on"]
