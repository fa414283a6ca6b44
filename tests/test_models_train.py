"""Training end to end on tiny samples: files shipped, engine == Keras, reproducible from a seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointModel
from emulator.models.train import train
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.hdf5 import write_batches

pytestmark = pytest.mark.tensorflow

CHAIN = str(Path(__file__).resolve().parents[1] / "configs" / "default.yaml")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, zb_batch: EventBatch) -> Path:
    path = tmp_path_factory.mktemp("train") / "zb.h5"
    write_batches(path, [zb_batch.select(slice(0, 3000))])
    return path


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path / "arrays.npz") as npz:
        return {k: npz[k] for k in npz.files}


def test_axol1tl_is_reproducible(sample: Path, tmp_path: Path) -> None:
    opts = {"epochs": 1, "batch_size": 512}
    a = train("axol1tl", sample=sample, out_dir=tmp_path / "a", seed=5, chain=CHAIN, options=opts)
    train("axol1tl", sample=sample, out_dir=tmp_path / "b", seed=5, chain=CHAIN, options=opts)
    train("axol1tl", sample=sample, out_dir=tmp_path / "c", seed=6, chain=CHAIN, options=opts)
    assert a["keras_vs_fxp_max_abs_diff"] == 0.0  # QAT model and engine agree on shifted inputs
    wa, wb, wc = (_arrays(tmp_path / d / "axol1tl.fxp") for d in "abc")
    assert wa.keys() == wb.keys()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert any(not np.array_equal(wa[k], wc[k]) for k in wa)
    for suffix in (".keras", ".hls4ml.json", ".train.json"):
        assert (tmp_path / "a" / f"axol1tl{suffix}").is_file()
    model = FixedPointModel.load(tmp_path / "a" / "axol1tl.fxp")
    assert model.n_inputs == 57
    assert model.n_outputs == 8
    assert json.loads((tmp_path / "a" / "axol1tl.hls4ml.json").read_text())["io_type"] == "io_parallel"


def test_cicada_ships_teacher_and_student(sample: Path, tmp_path: Path) -> None:
    opts = {"teacher_events": 800, "teacher_epochs": 1, "student_epochs": 1}
    report = train("cicada", sample=sample, out_dir=tmp_path, seed=2, chain=CHAIN, options=opts, parametric=500)
    assert report["events"] == 3500
    assert (tmp_path / "cicada_teacher.onnx").stat().st_size > 10_000
    assert FixedPointModel.load(tmp_path / "cicada.fxp").n_inputs == 252


def test_tagger_needs_signal(sample: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--signal"):
        train("tagger", sample=sample, out_dir=tmp_path, seed=1, chain=CHAIN)
    with pytest.raises(ConfigError, match="unknown model 'vae'"):
        train("vae", sample=sample, out_dir=tmp_path, seed=1, chain=CHAIN)


def test_cli_arguments_reach_train(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from emulator.models import train as train_mod
    from l1emu.cli import main

    seen: dict[str, object] = {}

    def fake(kind: str, **kwargs: object) -> dict[str, object]:
        seen.update(kind=kind, **kwargs)
        return {"model": kind}

    monkeypatch.setattr(train_mod, "train", fake)
    rc = main(["train", "cicada", "--sample", "zb.h5", "--out", "o", "--seed", "9", "--epochs", "3",
               "--add-parametric", "100"])  # fmt: skip
    assert rc == 0
    assert (seen["kind"], seen["seed"], seen["parametric"]) == ("cicada", 9, 100)
    assert seen["options"] == {"student_epochs": 3}
    assert '"model": "cicada"' in capsys.readouterr().out
