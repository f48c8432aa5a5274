"""The application layer: every workflow once, for the CLI, the demo, the bench and the
coming station service, which only parse, call and print.

========================  =====================================================
:func:`teach`             good parts -> a model folder (:class:`TeachResult`)
:func:`build_inspector`   plan, model, detector mode -> an ``Inspector``
:func:`inspect_parts`     parts -> one ``InspectionRecord`` per part, streamed;
                          ``records.jsonl`` and ``predictions.json`` written
:func:`evaluate`          predictions and records vs truth (:class:`EvaluateResult`)
:data:`DETECTORS`         the one registry of detector modes
========================  =====================================================

Options are validated dataclasses (:class:`TeachOptions`, :class:`InspectOptions`,
:class:`EvaluateOptions`); progress goes to a :class:`Progress` callback. This
package imports no CLI, web or database library, and loads its modules on
first use (``import castsight.app`` is light).

>>> from castsight import app
>>> app.InspectOptions(detector="local").workers
2
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from castsight.app._evaluate import beside_inputs, evaluate
    from castsight.app._inspect import (
        default_calibration,
        image_root,
        inspect_parts,
        record_errors,
    )
    from castsight.app._teach import teach
    from castsight.app.detectors import DETECTORS, ModelDetectors, model_detectors
    from castsight.app.inspector import build_inspector
    from castsight.app.options import EvaluateOptions, InspectOptions, TeachOptions
    from castsight.app.progress import Progress, advancing
    from castsight.app.results import EvaluateResult, NetworkSummary, TeachResult

_WHERE = {
    "DETECTORS": "detectors",
    "ModelDetectors": "detectors",
    "model_detectors": "detectors",
    "beside_inputs": "_evaluate",
    "evaluate": "_evaluate",
    "default_calibration": "_inspect",
    "image_root": "_inspect",
    "inspect_parts": "_inspect",
    "record_errors": "_inspect",
    "build_inspector": "inspector",
    "EvaluateOptions": "options",
    "InspectOptions": "options",
    "TeachOptions": "options",
    "Progress": "progress",
    "advancing": "progress",
    "EvaluateResult": "results",
    "NetworkSummary": "results",
    "TeachResult": "results",
    "teach": "_teach",
}

__all__ = [
    "DETECTORS",
    "EvaluateOptions",
    "EvaluateResult",
    "InspectOptions",
    "ModelDetectors",
    "NetworkSummary",
    "Progress",
    "TeachOptions",
    "TeachResult",
    "advancing",
    "beside_inputs",
    "build_inspector",
    "default_calibration",
    "evaluate",
    "image_root",
    "inspect_parts",
    "model_detectors",
    "record_errors",
    "teach",
]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module 'castsight.app' has no attribute {name!r}")
    return getattr(importlib.import_module(f"castsight.app.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
