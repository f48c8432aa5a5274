"""Inspection plans: the limits a part is judged by, validated with pydantic.

A plan is a YAML file. Its rules are the single source of the acceptance
limits: the inspection pipeline sentences parts by them, and the simulator
writes the sentence a perfect inspector would give under the same rules.
A bad plan gets one :class:`~castsight.errors.InputError` naming the field.

Shipped plans: ``giga-underbody`` (the simulator's structural casting),
``wheel`` and ``generic`` (parts without a plan of their own).

>>> plan = load_plan("giga-underbody")
>>> plan.part_type, plan.rules.max_pore, plan.rules.cracks_allowed
('giga-underbody', 2.0, False)
>>> len(plan.sha256)
64
"""

from __future__ import annotations

import hashlib
import itertools
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from castsight.errors import InputError

SHIPPED_PLANS = ("giga-underbody", "wheel", "generic")
Sentence = Literal["OK", "NG", "REVIEW"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rules(_Model):
    """Acceptance limits for one zone. ``None`` switches a limit off.

    Lengths are in the plan's ``units``: millimetres at the part (needs pixel
    pitch and magnification) or pixels; ``reference_area`` is in units squared.
    """

    max_pore: float | None = Field(2.0, gt=0, description="largest single gas pore (diameter)")
    max_pores_per_area: int | None = Field(None, ge=0, description="pores per reference area")
    reference_area: float = Field(
        2500.0, gt=0, description="area (units^2) for counts and porosity %"
    )
    min_pore_spacing: float | None = Field(None, gt=0, description="closest two pores may be")
    max_shrinkage: float | None = Field(3.0, gt=0, description="largest shrinkage cluster")
    max_porosity_area_pct: float | None = Field(None, gt=0, le=100)
    max_inclusion: float | None = Field(1.0, gt=0, description="largest inclusion")
    cracks_allowed: bool = False
    max_severity: int | None = Field(None, ge=1, le=4, description="ASTM E505-style level")
    severity_thresholds_pct: tuple[float, float, float, float] = Field(
        (0.5, 1.0, 2.0, 4.0), description="porosity area % at which levels 1..4 begin"
    )
    min_reportable: float = Field(
        0.3, ge=0, description="indications smaller than this are not judged"
    )
    min_views: int = Field(
        1,
        ge=1,
        description="views that must agree on an indication (by the views' geometry) for it "
        "to count where other views looked at the same place (1: every view alone)",
    )

    @model_validator(mode="after")
    def _increasing(self) -> Rules:
        t = self.severity_thresholds_pct
        if any(b <= a for a, b in itertools.pairwise(t)):
            raise ValueError("severity_thresholds_pct must increase from level 1 to 4")
        return self


class Zone(_Model):
    """A region of a view with its own criticality and rules.

    ``polygon`` is a list of [x, y] vertices as fractions (0..1) of the image
    width and height, so it holds for any detector size; ``mask`` names a
    mask image instead. A zone with neither covers the whole view.
    """

    name: str
    criticality: int = Field(2, ge=1, le=3, description="1 low, 3 safety-critical")
    polygon: list[tuple[float, float]] | None = None
    mask: str | None = None
    rules: Rules = Field(default_factory=Rules)


class QualityGate(_Model):
    """Whether an image may be judged at all."""

    min_signal_fraction: float = Field(
        0.02, ge=0, le=1, description="median part signal over full scale must exceed this"
    )
    max_saturated_pct: float = Field(
        1.0, ge=0, le=100, description="part pixels at full scale allowed"
    )
    min_snr: float = Field(
        20.0,
        ge=0,
        description="minimum SNR (mean over noise in homogeneous part regions, ASTM E2597 "
        "manner); an SNR that cannot be measured (noise below the quantisation step) is "
        "recorded as unknown and not gated",
    )
    min_snr_normalised: float | None = Field(
        None,
        ge=0,
        description="minimum normalised SNR_N = SNR * 88.6 um / SRb (EN ISO 17636-2, ASTM "
        "E2597); gated only when set and SRb (or the pixel pitch) is known",
    )
    basic_spatial_resolution_um: float | None = Field(
        None,
        gt=0,
        description="the detector's basic spatial resolution SRb (duplex wire IQI) for SNR_N; "
        "default: the pixel pitch from the image metadata",
    )
    min_part_pct: float = Field(
        5.0, ge=0, le=100, description="part must cover this much of the view"
    )
    min_judged_pct: float = Field(
        90.0,
        ge=0,
        le=100,
        description="the detector must judge this much of the part (the reference detector "
        "leaves its frame-edge band and pixels too few good parts covered)",
    )
    max_deviating_pct: float = Field(
        1.0,
        ge=0,
        le=100,
        description="a view compared with learned good parts may deviate from them (past 4 "
        "sigma) over at most this much of the judged part; more: posed outside the taught "
        "range, or another part (defects cover far less)",
    )


class ViewPlan(_Model):
    """Per-view choices: the detector to use and the zones."""

    detector: Literal["local", "reference", "learned", "cascade"] = "local"
    zones: list[Zone] = Field(default_factory=list)


class MultiView(_Model):
    """How indications are matched across a part's views (:mod:`castsight.measure.multiview`).

    Matching needs each view's projection (``Acquisition.projection``) and the
    part's box; without the box, every view judges alone.
    """

    tolerance_mm: float = Field(
        3.0, gt=0, description="largest distance (mm) between two views' rays of one defect"
    )
    part_box_mm: tuple[tuple[float, float, float], tuple[float, float, float]] | None = Field(
        None, description="[[xmin, ymin, zmin], [xmax, ymax, zmax]] of the part, part frame"
    )
    edge_min_views: int = Field(
        2,
        ge=1,
        description="views that must agree on an indication a displaced edge of the good part "
        "explains (the detector's edge_explained) or that runs along the frame's edge, "
        "wherever it lies, and at least half of the views that looked where it lies (those "
        "that could have detected its depth there); two such indications agree only with "
        "alike depths (within 2x); 1: no such rule",
    )


class InspectionPlan(_Model):
    """A part type's inspection plan."""

    part_type: str
    units: Literal["mm", "px"] = "mm"
    rules: Rules = Field(default_factory=Rules, description="whole-part (default zone) rules")
    quality: QualityGate = Field(default_factory=QualityGate)
    multiview: MultiView = Field(default_factory=MultiView)
    on_uninspectable: Literal["REVIEW", "NG"] = "REVIEW"
    expected_views: list[str] | None = None
    views: dict[str, ViewPlan] = Field(default_factory=dict)
    default_view: ViewPlan = Field(default_factory=ViewPlan)
    sha256: str = Field("", description="hash of the plan text (set on load)")

    def view_plan(self, view: str) -> ViewPlan:
        """The plan of ``view``, or the default view plan."""
        return self.views.get(view, self.default_view)


def load_plan(source: str | Path) -> InspectionPlan:
    """Load a plan from a YAML file, or a shipped plan by name."""
    if isinstance(source, str) and source in SHIPPED_PLANS:
        text = (resources.files("castsight") / "plans" / f"{source}.yaml").read_text("utf-8")
        origin = f"plan '{source}'"
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            known = ", ".join(SHIPPED_PLANS)
            raise InputError(path, f"no such plan file (shipped plans: {known})") from None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(path, f"cannot read plan ({err})") from None
        origin = str(path)
    return parse_plan(text, origin)


def parse_plan(text: str, origin: str = "plan") -> InspectionPlan:
    """Validate YAML text as a plan; errors name the offending field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InputError(origin, f"plan is not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise InputError(origin, "plan must be a YAML mapping")
    data["sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        return InspectionPlan.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "plan"
        raise InputError(origin, f"plan field '{field}': {first['msg']}") from None
