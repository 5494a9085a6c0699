"""Colour checks shared by the finish and garment tests."""

from __future__ import annotations

import numpy as np


def in_dyes(pixels: np.ndarray, colours) -> bool:
    """Every pixel is one of the dye colours or a blend of them (the wax finish's bleed softens
    the borders between dyes): non-negative weights summing to 1 reproduce it within rounding."""
    from scipy.optimize import nnls

    dyes = np.asarray(colours, np.float64)
    system = np.vstack([dyes.T, np.full(len(dyes), 1000.0)])  # the weights sum to 1
    for px in np.unique(np.asarray(pixels, np.float64).reshape(-1, 3), axis=0):
        weights, _ = nnls(system, np.append(px, 1000.0))
        if np.abs(dyes.T @ weights - px).max() > 2.0:
            return False
    return True
