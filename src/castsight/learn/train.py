"""Train :class:`~castsight.learn.net.DefectNet` on synthesised samples (CPU first, GPU if present).

Seeded (the sample stream, the weights and torch's own generators), one
thread per free core, a step or time budget, AdamW with warm-up and cosine
decay over the budget, and a loss made for tiny objects: binary cross-entropy
with defect pixels weighted up, plus soft Dice over the batch (a 3-pixel pore
weighs as much as its size deserves, not as 3 of 16,384 pixels).
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812 (the usual name)

from castsight.learn.net import DefectNet
from castsight.learn.synth import Maker


@dataclass(frozen=True)
class TrainSettings:
    """What training does and how long it may take."""

    steps: int = 3000
    """Most optimiser steps."""
    time_budget_s: float | None = 600.0
    """Stop after this long even if ``steps`` are not done (None: no limit)."""
    batch: int = 12
    lr: float = 5e-3
    weight_decay: float = 1e-4
    widths: tuple[int, int, int, int] = (12, 24, 32, 48)
    stem: int = 4
    pos_weight: float = 5.0
    """Weight of defect pixels in the cross-entropy (they are about 1 % of pixels)."""
    dice_weight: float = 0.5
    seed: int = 0
    threads: int | None = None
    """Torch threads (default: :func:`default_threads`)."""
    device: str | None = None
    """"cpu", "cuda" or None (cuda when available)."""
    workers: int = 0
    """Processes making samples (0: in this process). Each has its own seeded
    stream, so a run is repeatable for a given number of workers; a GPU needs
    several to be kept busy (one sample takes about 3.5 ms of CPU)."""


@dataclass
class TrainResult:
    """The trained network and what happened."""

    net: DefectNet
    steps: int
    seconds: float
    final_loss: float
    losses: list[float] = field(default_factory=list)
    stopped_by: str = "steps"

    def summary(self, settings: TrainSettings) -> dict[str, Any]:
        """Training summary for the model manifest."""
        return {
            "steps": self.steps,
            "seconds": round(self.seconds, 1),
            "final_loss": round(self.final_loss, 5),
            "stopped_by": self.stopped_by,
            "settings": {
                k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()
            },
            "torch": str(torch.__version__),
        }


def loss_fn(logits: torch.Tensor, target: torch.Tensor, cfg: TrainSettings) -> torch.Tensor:
    """Weighted BCE (mean over pixels) + soft Dice over the whole batch."""
    weight = torch.tensor(cfg.pos_weight, device=logits.device)
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)
    p = torch.sigmoid(logits)
    inter = (p * target).sum()
    dice = 1 - (2 * inter + 1) / (p.sum() + target.sum() + 1)
    return bce + cfg.dice_weight * dice


def learning_rate(peak: float, done: float) -> float:
    """Warm-up over the first 10 % then cosine decay to 2 % of ``peak``; ``done`` in 0..1.

    ``done`` is the larger of the step and the time fraction, so a run stopped by
    its time budget still ends with a small learning rate.
    """
    done = min(max(done, 0.0), 1.0)
    if done < 0.1:
        return peak * (0.1 + 0.9 * done / 0.1)
    t = (done - 0.1) / 0.9
    return peak * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * t)))


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """All cores on an idle machine; one thread when the machine is already busy.

    On a shared 2-core machine with a load average of 11, a training step took
    0.17 s with one thread and 1-10 s with two (threads waiting on each other's
    barriers while other processes hold the cores).
    """
    n = cores()
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not available
        return n
    return n if load < 0.75 * n else 1


class _Batches(torch.utils.data.IterableDataset[tuple[torch.Tensor, torch.Tensor]]):
    """Endless batches from a sample maker; worker ``k`` draws from its own seeded stream."""

    def __init__(self, maker: Maker, batch: int) -> None:
        self.maker, self.size = maker, batch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        maker = self.maker
        if info is not None:  # a forked copy: give it a stream of its own
            torch.set_num_threads(1)
            maker = maker.reseeded(maker.seed + 7919 * (info.id + 1))
        while True:
            xb, yb = maker.batch(self.size)
            yield torch.from_numpy(xb), torch.from_numpy(yb)


def batches(maker: Maker, settings: TrainSettings) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The training batches: made here, or by ``settings.workers`` processes."""
    if settings.workers <= 0:
        return iter(_Batches(maker, settings.batch))
    loader = torch.utils.data.DataLoader(
        _Batches(maker, settings.batch),
        batch_size=None,
        num_workers=settings.workers,
        pin_memory=torch.cuda.is_available(),
        prefetch_factor=4,
        persistent_workers=False,
    )
    return iter(loader)


def train(
    maker: Maker,
    settings: TrainSettings,
    *,
    progress: Callable[[int, float], None] | None = None,
    checkpoint: Callable[[DefectNet, int], None] | None = None,
    checkpoint_every_s: float = 60.0,
    init: DefectNet | None = None,
) -> TrainResult:
    """Train a network on samples from ``maker``; ``progress(step, loss)`` after each step.

    ``checkpoint(net, step)`` is called every ``checkpoint_every_s`` seconds
    (with the network in training mode; copy what you keep), so a long run on a
    lent machine leaves its weights behind even if it is cut short. ``init``:
    start from a copy of these weights (fine-tuning) instead of random ones.
    """
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads or default_threads())
    device = torch.device(settings.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if init is None:
        net = DefectNet(settings.widths, settings.stem, maker.channels)
    else:  # fine-tune a copy (its architecture wins over the settings')
        if init.channels != maker.channels:
            raise ValueError(f"cannot fine-tune a {init.channels}-channel network on "
                             f"{maker.channels}-channel samples")  # fmt: skip
        net = DefectNet(init.widths, init.stem_factor, init.channels)
        net.load_state_dict(init.state_dict())
    net = net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    start = time.perf_counter()
    losses: list[float] = []
    stopped = "steps"
    net.train()
    step = 0
    budget = settings.time_budget_s
    stream = batches(maker, settings)
    saved = start
    for step in range(1, settings.steps + 1):
        done = (step - 1) / settings.steps
        if budget is not None:
            done = max(done, (time.perf_counter() - start) / budget)
        for group in opt.param_groups:
            group["lr"] = learning_rate(settings.lr, done)
        xb, yb = next(stream)
        x, y = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        loss = loss_fn(net(x), y, settings)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"training diverged at step {step} (loss {value})")
        losses.append(value)
        if progress is not None:
            progress(step, value)
        if checkpoint is not None and time.perf_counter() - saved > checkpoint_every_s:
            checkpoint(net, step)
            saved = time.perf_counter()
        if budget is not None and time.perf_counter() - start > budget and step < settings.steps:
            stopped = "time"
            break
    net.eval()
    net.cpu()
    tail = losses[-50:] if losses else [float("nan")]
    return TrainResult(
        net, step, time.perf_counter() - start, float(np.mean(tail)), losses, stopped
    )


CHECKPOINT_FORMAT = "castsight-defectnet/1"


def checkpoint_bytes(net: DefectNet, summary: dict[str, Any]) -> bytes:
    """``net``'s weights and training summary as a ``torch.save`` file (tensors and plain types)."""
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    blob = {
        "format": CHECKPOINT_FORMAT,
        "widths": list(net.widths),
        "stem": net.stem_factor,
        "channels": net.channels,
        "state_dict": state,
        "summary": json.loads(json.dumps(summary, default=str)),  # plain types only
    }
    buf = io.BytesIO()
    torch.save(blob, buf)
    return buf.getvalue()


def save_checkpoint(path: str | os.PathLike[str], net: DefectNet, summary: dict[str, Any]) -> None:
    """Write :func:`checkpoint_bytes` to ``path`` (via a temporary name: a cut-short run
    leaves the last whole checkpoint)."""
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "wb") as f:
        f.write(checkpoint_bytes(net, summary))
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[DefectNet, dict[str, Any]]:
    """The network (eval mode, on the CPU) and training summary of :func:`save_checkpoint`."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    net = DefectNet(tuple(blob["widths"]), int(blob["stem"]), int(blob["channels"]))
    net.load_state_dict(blob["state_dict"])
    return net.eval(), dict(blob["summary"])
