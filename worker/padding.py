"""Making padded batches exact for raw-waveform encoders whose first conv layer uses group norm.

wav2vec2, HuBERT and WavLM "group" checkpoints normalise the first conv layer's output per channel over
the whole time axis, so zeros padded after a short window shift its statistics and change its scores.
Every later layer is exact with padding (valid convolutions never reach the padding from a valid frame,
and the encoder masks the rest), so normalising over each window's own frames makes the whole batch
exact. The norm learns the batch's lengths from ``PaddedLengths`` just before each forward pass.
"""

from __future__ import annotations

import torch
from torch import nn


class PaddedLengths:
    """The unpadded length (in input samples) of each row of the batch being run; None: no padding."""

    def __init__(self) -> None:
        self.samples: torch.Tensor | None = None


def masked_group_norm(
    norm: nn.GroupNorm, hidden: torch.Tensor, samples: torch.Tensor, *, kernel: int, stride: int
) -> torch.Tensor:
    """``norm`` applied to each row over its valid frames only (the frames its own samples produce)."""
    batch, channels, frames = hidden.shape
    groups = norm.num_groups
    valid = (samples.to(hidden.device) - kernel) // stride + 1
    # Statistics in fp32 whatever the model's precision, as the fused GroupNorm kernels keep them.
    mask = (torch.arange(frames, device=hidden.device)[None, :] < valid[:, None]).float()
    grouped = hidden.float().reshape(batch, groups, channels // groups, frames)
    weight = mask[:, None, None, :]
    count = weight.sum(dim=-1, keepdim=True) * (channels // groups)
    mean = (grouped * weight).sum(dim=(2, 3), keepdim=True) / count
    variance = (((grouped - mean) * weight) ** 2).sum(dim=(2, 3), keepdim=True) / count
    normalised = ((grouped - mean) / torch.sqrt(variance + norm.eps)).reshape(batch, channels, frames)
    if norm.affine:
        normalised = normalised * norm.weight.float()[None, :, None] + norm.bias.float()[None, :, None]
    return normalised.to(hidden.dtype)


def make_padding_exact(model: nn.Module, lengths: PaddedLengths) -> bool:
    """Have each group norm that follows a conv on raw audio normalise over valid frames whenever
    ``lengths`` says the batch is padded. A forward hook, not a swapped module: the checkpoint's state
    dict stays as it is. False when a group norm sits anywhere else: then padding cannot be made exact,
    and windows of different lengths must never share a batch."""
    layers = [
        module
        for module in model.modules()
        if isinstance(getattr(module, "layer_norm", None), nn.GroupNorm)
        and isinstance(getattr(module, "conv", None), nn.Conv1d)
        and module.conv.in_channels == 1
    ]
    handled = {id(layer.layer_norm) for layer in layers}
    if any(isinstance(m, nn.GroupNorm) and id(m) not in handled for m in model.modules()):
        return False
    for layer in layers:
        kernel, stride = layer.conv.kernel_size[0], layer.conv.stride[0]

        def renormalise(
            norm: nn.Module,
            inputs: tuple[torch.Tensor, ...],
            output: torch.Tensor,
            kernel: int = kernel,
            stride: int = stride,
        ) -> torch.Tensor | None:
            if lengths.samples is None:
                return None
            return masked_group_norm(norm, inputs[0], lengths.samples, kernel=kernel, stride=stride)

        layer.layer_norm.register_forward_hook(renormalise)
    return True
