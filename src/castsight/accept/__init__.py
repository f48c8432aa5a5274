"""Accept: inspection plans, zones, rules and the image-quality gate."""

from castsight.accept.plan import InspectionPlan, QualityGate, Rules, Zone, load_plan

__all__ = ["InspectionPlan", "QualityGate", "Rules", "Zone", "load_plan"]
