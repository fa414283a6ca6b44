"""The CICADA-like teacher: a torch convolutional autoencoder on the 18 × 14 region ETs.

Input ``log1p(ET / GeV)`` of each region; the teacher's anomaly score is the per-event
mean squared reconstruction error. The ONNX export outputs that score directly, so
onnxruntime's float result is the reference the quantized student is distilled from.
torch and onnxruntime are imported lazily (training and tests only).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from streams.schema import PT_LSB

__all__ = ["build_teacher", "onnx_score", "teacher_inputs", "torch_score", "train_teacher"]

log = logging.getLogger(__name__)


def teacher_inputs(regions_hw: np.ndarray) -> np.ndarray:
    """``log1p(ET in GeV)`` as float32 ``(N, 1, 18, 14)`` from hardware region ETs."""
    et = np.asarray(regions_hw, np.float32).reshape(-1, 1, 18, 14) * np.float32(PT_LSB)
    out: np.ndarray = np.log1p(et).astype(np.float32)
    return out


def build_teacher() -> Any:
    """Conv(16) → pool → Conv(16) → Dense 16 → Dense → Conv(16) → upsample → Conv(1); outputs the score."""
    import torch
    from torch import nn

    class Teacher(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 9 * 7, 16), nn.ReLU(),
            )  # fmt: skip
            self.decoder = nn.Sequential(
                nn.Linear(16, 16 * 9 * 7), nn.ReLU(), nn.Unflatten(1, (16, 9, 7)),
                nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2.0, mode="nearest"),
                nn.Conv2d(16, 1, 3, padding=1),
            )  # fmt: skip

        def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.decoder(self.encoder(x))
            return out

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return ((self.reconstruct(x) - x) ** 2).mean(dim=(1, 2, 3))

    return Teacher()


def train_teacher(x: np.ndarray, *, seed: int, epochs: int = 4, batch_size: int = 512, lr: float = 2e-3) -> Any:
    """Fit the teacher on ``teacher_inputs`` of zero bias (deterministic for a seed)."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # faster than 2 on these small convs, and deterministic
    torch.use_deterministic_algorithms(True)
    model = build_teacher()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = torch.from_numpy(x)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(data), generator=gen)
        total = 0.0
        for i in range(0, len(data), batch_size):
            batch = data[order[i : i + batch_size]]
            loss = model(batch).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        log.info("teacher epoch %d: loss %.5f (%.0f s)", epoch, total / len(data), time.perf_counter() - t0)
    return model.eval()


def torch_score(model: Any, x: np.ndarray, batch_size: int = 65536) -> np.ndarray:
    """The teacher's score in torch (float32 ``(N,)``)."""
    import torch

    with torch.no_grad():
        parts = [model(torch.from_numpy(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float32)


def export_onnx(model: Any, path: str | Path) -> Path:
    """Write the teacher (input ``regions`` (N,1,18,14) → output ``score`` (N,)) as ONNX."""
    import torch

    p = Path(path)
    dummy = torch.zeros(2, 1, 18, 14)
    torch.onnx.export(model, (dummy,), str(p), input_names=["regions"], output_names=["score"],
                      dynamic_axes={"regions": {0: "n"}, "score": {0: "n"}}, dynamo=False)  # fmt: skip
    return p


def onnx_score(path: str | Path, x: np.ndarray) -> np.ndarray:
    """The teacher's score through onnxruntime (the float reference)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    out = sess.run(["score"], {"regions": np.ascontiguousarray(x, np.float32)})[0]
    return np.asarray(out, np.float32).reshape(-1)
