"""The CICADA teacher: ONNX export agrees with torch; the shipped ONNX scores zero bias sensibly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.models import teacher as T
from streams.event import EventBatch

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "models" / "cicada_teacher.onnx"


def test_teacher_inputs_are_log_gev() -> None:
    x = T.teacher_inputs(np.full((2, 18, 14), 2, np.uint16))
    assert x.shape == (2, 1, 18, 14)
    assert np.allclose(x, np.log1p(1.0))


def test_onnx_export_matches_torch(tmp_path: Path, zb_batch: EventBatch) -> None:
    pytest.importorskip("onnxruntime")
    x = T.teacher_inputs(zb_batch["regions"])
    model = T.train_teacher(x[:1024], seed=3, epochs=1, batch_size=256)
    path = T.export_onnx(model, tmp_path / "teacher.onnx")
    ref, onnx = T.torch_score(model, x), T.onnx_score(path, x)
    assert onnx.shape == (len(x),)
    np.testing.assert_allclose(onnx, ref, rtol=1e-4, atol=1e-6)
    again = T.train_teacher(x[:1024], seed=3, epochs=1, batch_size=256)
    assert np.array_equal(T.torch_score(again, x[:64]), ref[:64])  # seeded: reproducible


def test_shipped_teacher_runs_in_onnxruntime(zb_batch: EventBatch) -> None:
    pytest.importorskip("onnxruntime")
    score = T.onnx_score(SHIPPED, T.teacher_inputs(zb_batch["regions"]))
    assert np.isfinite(score).all()
    assert (score > 0).all()
    spot = zb_batch["regions"][:500].copy()
    spot[:, 5, 7] = 400  # a 200 GeV deposit on top of each zero-bias crossing
    raised = T.onnx_score(SHIPPED, T.teacher_inputs(spot)) > score[:500]
    assert raised.mean() > 0.9  # the deposit raises the score of (nearly) every crossing
