"""Weighted least squares with covariance, for rate-vs-pileup fits."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["design", "nnls_wls", "wls"]


def design(x: np.ndarray, degree: int) -> np.ndarray:
    """Polynomial design matrix ``[1, x, x², …]`` (n, degree + 1)."""
    return np.vander(np.asarray(x, np.float64), degree + 1, increasing=True)


def wls(X: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, Any] | None:
    """Fit ``y ≈ X·β`` with weights 1/err²; None when there are fewer points than parameters.

    >>> r = wls(design(np.array([0.0, 1.0, 2.0]), 1), np.array([1.0, 3.0, 5.0]), np.ones(3))
    >>> [round(b, 9) for b in r["params"]], r["chi2"] < 1e-12
    ([1.0, 2.0], True)
    """
    n, p = X.shape
    if n < p:
        return None
    w = 1.0 / np.square(err)
    a = X.T @ (X * w[:, None])
    try:
        cov = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return None
    beta = cov @ (X.T @ (w * y))
    resid = y - X @ beta
    return {"params": beta.tolist(), "cov": cov.tolist(), "chi2": float((w * resid**2).sum()), "ndf": n - p}


def nnls_wls(X: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, Any] | None:
    """Weighted least squares with every parameter ≥ 0; the covariance is that of the free ones.

    Parameters at their bound 0 get zero variance (the fit pins them); with positive
    columns of ``X`` the fitted curve is then non-negative and non-decreasing.

    >>> r = nnls_wls(design(np.array([0.0, 1.0, 2.0]), 1), np.array([3.0, 2.0, 1.0]), np.ones(3))
    >>> [round(b, 9) for b in r["params"]]
    [2.0, 0.0]
    """
    from scipy.optimize import nnls

    n, p = X.shape
    if n < p:
        return None
    sw = 1.0 / np.asarray(err, np.float64)
    beta, _ = nnls(X * sw[:, None], y * sw)
    free = beta > 0
    cov = np.zeros((p, p))
    if free.any():
        a = X[:, free].T @ (X[:, free] * np.square(sw)[:, None])
        try:
            cov[np.ix_(free, free)] = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            return None
    resid = y - X @ beta
    return {"params": beta.tolist(), "cov": cov.tolist(), "chi2": float((np.square(sw * resid)).sum()),
            "ndf": n - int(free.sum())}
