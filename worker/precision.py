"""The numeric precision a model runs at: chosen once per process, applied to the loaded network.

``auto`` picks what pays on the hardware at hand: fp16 on CUDA; bf16 on CPUs with native bf16 units
(AVX512-BF16 or AMX), where it roughly doubles matmul throughput; fp32 elsewhere, since emulated bf16 is
slower than fp32. Tiny models stay fp32 under ``auto``: their cost is Python and memory traffic, not
arithmetic, so halving the arithmetic buys nothing and only costs fidelity.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

import torch

from shared.errors import ModelError

log = logging.getLogger(__name__)

# Below this many parameters a forward pass is dominated by overhead, not by matmuls.
TINY_MODEL_PARAMETERS = 10_000_000
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


class Precision(StrEnum):
    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    INT8 = "int8"


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """oneDNN's own probe where torch has it, else the kernel's CPU flags."""
    try:
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return True
    except (AttributeError, RuntimeError):
        pass
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []
    )
    return bool(NATIVE_BF16_FLAGS & set(flags))


def choose_precision(requested: Precision, device: torch.device, parameters: int) -> Precision:
    """The concrete precision for ``requested`` on ``device``; refuses what the device cannot run."""
    if requested is Precision.AUTO:
        if device.type == "cuda":
            return Precision.FP16
        if parameters >= TINY_MODEL_PARAMETERS and cpu_has_native_bf16():
            return Precision.BF16
        return Precision.FP32
    if requested is Precision.FP16 and device.type != "cuda":
        raise ModelError(
            "EMOQ_PRECISION=fp16 needs a CUDA device; use bf16 or int8 on CPU", code="model_error"
        )
    if requested is Precision.INT8 and device.type != "cpu":
        raise ModelError("EMOQ_PRECISION=int8 (dynamic quantization) runs on CPU only", code="model_error")
    return requested


def apply_precision(model: torch.nn.Module, precision: Precision) -> torch.nn.Module:
    """Convert a loaded fp32 network in place (or, for int8, return its quantized copy)."""
    if precision is Precision.FP16:
        return model.half()
    if precision is Precision.BF16:
        return model.to(torch.bfloat16)
    if precision is Precision.INT8:
        # Dynamic quantization: Linear weights stored int8, activations quantized per batch on the fly.
        # The convolutional feature encoder stays fp32: quantize_dynamic has no Conv1d kernels.
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def input_dtype(precision: Precision) -> torch.dtype:
    """The dtype floating-point inputs must have to meet the network's first layer."""
    return {Precision.FP16: torch.float16, Precision.BF16: torch.bfloat16}.get(precision, torch.float32)
