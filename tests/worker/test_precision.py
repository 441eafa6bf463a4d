"""Which precision runs where, and what each costs in fidelity on a real (tiny) checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from shared.errors import ModelError
from tests.worker.test_inference import speechlike
from worker import precision
from worker.inference import AudioClassifier
from worker.precision import Precision, choose_precision

CPU, CUDA = torch.device("cpu"), torch.device("cuda")
BASE_SIZE = 94_000_000


def test_auto_is_fp16_on_cuda_whatever_the_size() -> None:
    assert choose_precision(Precision.AUTO, CUDA, 1_000) is Precision.FP16


@pytest.mark.parametrize(
    ("native", "parameters", "expected"),
    [
        (True, BASE_SIZE, Precision.BF16),
        (False, BASE_SIZE, Precision.FP32),
        (True, 900_000, Precision.FP32),
    ],
)
def test_auto_on_cpu_takes_bf16_only_where_it_pays(
    native: bool, parameters: int, expected: Precision, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)

    assert choose_precision(Precision.AUTO, CPU, parameters) is expected


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    with_amx, without = tmp_path / "amx", tmp_path / "plain"
    with_amx.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile\n")
    without.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n")

    assert precision.cpu_has_native_bf16(with_amx)
    assert not precision.cpu_has_native_bf16(without)
    assert not precision.cpu_has_native_bf16(tmp_path / "missing")


@pytest.mark.parametrize(("requested", "device"), [(Precision.FP16, CPU), (Precision.INT8, CUDA)])
def test_a_precision_the_device_cannot_run_is_refused(requested: Precision, device: torch.device) -> None:
    with pytest.raises(ModelError):
        choose_precision(requested, device, BASE_SIZE)


@pytest.mark.parametrize(("name", "tolerance"), [("bf16", 0.05), ("int8", 0.05)])
def test_reduced_precision_stays_close_to_fp32_and_says_what_it_ran_at(
    tiny_model: Path, name: str, tolerance: float
) -> None:
    clip = speechlike(3.0, seed=11)
    reference = AudioClassifier.load(str(tiny_model), device="cpu", precision="fp32", window_seconds=1.0)
    reduced = AudioClassifier.load(str(tiny_model), device="cpu", precision=name, window_seconds=1.0)

    expected = {s.label: s.score for s in reference.classify(clip).scores}
    scores = {s.label: s.score for s in reduced.classify(clip).scores}

    assert reduced.precision == name and reference.precision == "fp32"
    assert scores == pytest.approx(expected, abs=tolerance)
