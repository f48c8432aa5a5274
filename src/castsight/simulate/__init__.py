"""Radiograph simulation: cone-beam geometry, analytic part phantoms, X-ray physics."""
