"""Learning from good parts alone: reference statistics per view (and, later, a learned model).

:func:`learn_reference` turns folders of good parts into the per-view
statistics the ``reference`` detector compares new images with; the model
artifact (:mod:`castsight.model`) stores them.
"""

from castsight.teach.statistics import learn_reference, learn_view, reference_summary

__all__ = ["learn_reference", "learn_view", "reference_summary"]
