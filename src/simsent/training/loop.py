"""What the training loop of ``train`` and the pretraining loop share: the ``accelerate`` set-up for a
device and precision, and the update after a backward pass.

Example:
    >>> accelerator = make_accelerator("cpu", "fp32")                               # doctest: +SKIP
    >>> accelerator.backward(loss); apply_update(accelerator, params, opt, sched, 1.0)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch


def make_accelerator(device_spec: str | None, precision: str, seedable_sampler: bool = True) -> Any:
    """A fresh ``Accelerator`` for ``device_spec`` and ``precision`` (fp16 needs CUDA); in one process every
    run may choose its own device and precision (the shared accelerate state is reset).

    Launched as several processes (``accelerate launch`` / ``torchrun``), each global batch is split
    between them (``split_batches``: the same batches, in the same order, as one process) and parameters a
    step does not use (a pooler under mean pooling) are allowed.
    """
    import os

    from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs
    from accelerate.state import AcceleratorState, GradientState

    from simsent.modeling.device import check_precision, resolve_device

    device = resolve_device(device_spec)
    check_precision(precision, device)
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device)
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    if not distributed:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    return Accelerator(
        cpu=device.type == "cpu",
        mixed_precision={"fp32": "no"}.get(precision, precision),
        dataloader_config=DataLoaderConfiguration(
            use_seedable_sampler=seedable_sampler,
            non_blocking=device.type == "cuda",
            split_batches=processes > 1,
        ),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)]
        if processes > 1
        else None,
    )


def processes_asked_by_launcher(cmdline: Sequence[str] | None = None) -> int | None:
    """How many processes the ``accelerate launch`` that started this one asked for (``--num_processes``),
    read from the parent's command line (Linux); ``None`` when the parent is not ``accelerate launch`` or
    does not say.

    ``accelerate launch --cpu --num_processes 2`` starts a single process (its simple launcher; see
    huggingface/accelerate#2741): the trainer compares this with the processes it really has.

    Example:
        >>> processes_asked_by_launcher(["python", "accelerate", "launch", "--cpu", "--num_processes", "2"])
        2
        >>> processes_asked_by_launcher(["python", "train.py"]) is None
        True
    """
    import os

    if cmdline is None:
        try:
            with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
                cmdline = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            return None
    if "launch" not in cmdline or not any(os.path.basename(a).startswith("accelerate") for a in cmdline):
        return None
    for i, arg in enumerate(cmdline):
        value = arg.split("=", 1)[1] if arg.startswith("--num_processes=") else None
        if arg == "--num_processes" and i + 1 < len(cmdline):
            value = cmdline[i + 1]
        if value is not None and value.isdigit():
            return int(value)
    return None


def log_process_count(accelerator: Any, logger: Any) -> None:
    """Say how many processes train, and warn when the launcher asked for more than started."""
    logger.info("%d process(es) on %s", accelerator.num_processes, accelerator.device)
    asked = processes_asked_by_launcher()
    if asked is not None and asked > accelerator.num_processes:
        logger.warning(
            "accelerate launch asked for %d processes but %d started (its --cpu launcher runs one); on CPUs "
            "launch with: torchrun --nproc_per_node %d -m simsent.cli.main train ...",
            asked, accelerator.num_processes, asked,
        )


def sum_gradients(accelerator: Any, params: Sequence[torch.nn.Parameter]) -> None:
    """Add up every parameter's gradient across processes (a cached step's chunks bypass DDP's sync)."""
    if accelerator.num_processes == 1:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        torch.distributed.all_reduce(p.grad, op=torch.distributed.ReduceOp.SUM)


def apply_update(
    accelerator: Any,
    params: Sequence[torch.nn.Parameter],
    optimizer: Any,
    scheduler: Any,
    max_grad_norm: float,
) -> None:
    """After ``accelerator.backward``: clip the gradients (``max_grad_norm`` > 0; unscaled first under
    fp16), step the optimiser and the schedule, clear the gradients."""
    if max_grad_norm > 0:
        accelerator.clip_grad_norm_(params, max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def check_batch_split(batch_size: int) -> None:
    """Refuse a batch that does not split evenly over the processes a launcher started (``WORLD_SIZE``):
    the first process says it in one line, the others exit quietly (exit code 2).

    Example:
        >>> check_batch_split(64)
    """
    import os

    from simsent.errors import ConfigError

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if batch_size % world:
        if os.environ.get("RANK", "0") != "0":
            raise SystemExit(2)  # every process meets it: the first one says it
        raise ConfigError(f"--batch-size {batch_size} does not split over the {world} launched processes; "
                          "give a multiple of the process count")


@contextlib.contextmanager
def stopping_cleanly(bar: Any, on_stop: Callable[[BaseException], None] | None) -> Iterator[Any]:
    """The body of a training loop (``train`` and ``pretrain``): Ctrl-C is deferred to the step boundary
    (the loop checks ``interrupt.requested``); on Ctrl-C or a crash the progress bar closes and
    ``on_stop(exc)`` writes the checkpoint to resume from, then the error goes on.

    Example:
        >>> with stopping_cleanly(bar, lambda exc: save_checkpoint()) as interrupt:  # doctest: +SKIP
        ...     for batch in loader:
        ...         step(batch)
        ...         if interrupt.requested:
        ...             raise KeyboardInterrupt
    """
    from simsent.training.checkpoint import StepBoundaryInterrupt

    with StepBoundaryInterrupt() as interrupt:  # a second Ctrl-C cannot cut the checkpoint below
        try:
            yield interrupt
        except BaseException as exc:
            bar.close()
            if on_stop is not None:
                on_stop(exc)
            raise
