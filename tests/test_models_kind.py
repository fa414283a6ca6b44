"""Model kinds: one registration per kind, inputs shared by chain and testbench, one shipped layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emulator.models import kind as registry
from emulator.models.inputs import axol1tl_inputs, cicada_inputs, tagger_features
from emulator.models.kind import ModelKind, TrainingRun
from emulator.models.kinds import get_model_kind, model_kind_for_algorithm, model_kinds
from emulator.models.shipped import ShippedFiles
from firmware.hls_project import ModelFiles
from streams.errors import ConfigError, FirmwareError
from streams.event import EventBatch


def test_builtin_kinds_are_registered_case_insensitively() -> None:
    assert model_kinds() == ("axol1tl", "cicada", "tagger")
    assert get_model_kind("CICADA") is get_model_kind("cicada")
    assert get_model_kind("cicada").epochs_option == "student_epochs"
    assert get_model_kind("tagger").needs_signal
    assert not get_model_kind("tagger").takes_parametric


@pytest.mark.parametrize(
    ("name", "fn"), [("axol1tl", axol1tl_inputs), ("cicada", cicada_inputs), ("tagger", tagger_features)]
)
def test_kind_inputs_are_the_runtime_builders(name: str, fn: object, zb_batch: EventBatch) -> None:
    kind = get_model_kind(name)
    assert kind.inputs is fn
    assert model_kind_for_algorithm(kind.algorithm.upper()) is kind
    assert np.array_equal(kind.inputs(zb_batch), fn(zb_batch))  # type: ignore[operator]


def test_unknown_and_duplicate_kinds_raise() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'vae'; known: \['axol1tl', 'cicada', 'tagger'\]"):
        get_model_kind("vae")
    with pytest.raises(ConfigError, match="'AXOL1TL' is already registered"):
        registry.register_model_kind(ModelKind("AXOL1TL", algorithm="x", inputs=axol1tl_inputs, train=_no_train))
    assert model_kind_for_algorithm("menu") is None


def _no_train(run: TrainingRun) -> dict[str, object]:
    return {}


def test_kinds_import_neither_tensorflow_nor_training() -> None:
    code = ("import sys; from emulator.models.kinds import model_kinds; import emulator.algorithms.anomaly, "
            "emulator.algorithms.tagger; model_kinds(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'qkeras', 'hls4ml') "
            "or m in ('emulator.models.axol1tl', 'emulator.models.cicada', 'emulator.models.tagger', "
            "'emulator.models.dataset', 'emulator.models.train', 'emulator.models.export')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_shipped_layout_is_shared_by_export_and_firmware(tmp_path: Path) -> None:
    files = ShippedFiles.at(tmp_path, "m")
    assert (files.keras.name, files.hls4ml.name, files.fxp.name) == ("m.keras", "m.hls4ml.json", "m.fxp")
    for ref in (tmp_path / "m", files.keras, files.hls4ml, files.fxp):
        assert ShippedFiles.of(ref) == files
    with pytest.raises(FirmwareError, match=r"model 'm': no .*m\.keras or .*m\.h5"):
        ModelFiles.locate(files.fxp)
    tmp_path.joinpath("m.h5").touch()
    with pytest.raises(FirmwareError, match=r"hls4ml config .* is missing"):
        ModelFiles.locate(files.fxp)
    files.hls4ml.touch()
    files.fxp.mkdir()
    located = ModelFiles.locate(tmp_path / "m")
    assert (located.keras.name, located.hls4ml, located.fxp) == ("m.h5", files.hls4ml, files.fxp)
    files.keras.touch()
    assert ModelFiles.locate(files.hls4ml).keras == files.keras
