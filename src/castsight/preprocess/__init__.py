"""Preprocess: calibration, log domain, part masking, noise and sharpness estimates."""

from castsight.preprocess.mask import part_mask
from castsight.preprocess.noise import NoiseEstimate, estimate_noise

__all__ = ["NoiseEstimate", "estimate_noise", "part_mask"]
