"""How a use case says how far it is: the :class:`Progress` protocol.

A use case calls ``progress(stage, done, total, note)``: ``stage`` names the
step (``"inspecting parts"``, ``"learning views"``, a training stage), ``done``
of ``total`` units are finished, ``note`` says more (a loss, a threshold). The
first call of a stage has ``done == 0`` where the total is known up front.
Front ends turn the calls into what they show (a Rich bar, a log line, an
HTTP event); none is needed.

>>> seen = []
>>> bump = advancing(seen.append)
>>> bump("parts", 0, 3); bump("parts", 2, 3); bump("parts", 3, 3)
>>> seen
[2, 1]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    """Called as a use case goes: ``stage``, ``done`` of ``total`` units, a ``note``."""

    def __call__(self, stage: str, done: int, total: int, note: str = "", /) -> None:
        """Say that ``done`` of ``total`` units of ``stage`` are finished."""
        ...


def advancing(advance: Callable[[int], None]) -> Progress:
    """A :class:`Progress` that calls ``advance(n)`` with the units finished since the last
    call of the same stage (for bars that count up, as the bench's do)."""
    seen: dict[str, int] = {}

    def progress(stage: str, done: int, total: int, note: str = "", /) -> None:
        del total, note
        step = done - seen.get(stage, 0)
        seen[stage] = done
        if step > 0:
            advance(step)

    return progress


__all__ = ["Progress", "advancing"]
