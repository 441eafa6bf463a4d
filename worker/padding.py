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


def renormalise_padded_rows(
    norm: nn.GroupNorm, hidden: torch.Tensor, output: torch.Tensor, valid_frames: torch.Tensor
) -> torch.Tensor:
    """``output``, each padded row normalised again over its own frames only, by the same kernel on the
    same values as when the window runs alone; rows without padding keep the batched result. In place:
    the norm's output is a fresh tensor nothing else holds yet."""
    frames = hidden.shape[-1]
    padded = (valid_frames < frames).nonzero().flatten().tolist()
    for row in padded:
        valid = int(valid_frames[row])
        output[row, :, :valid] = nn.functional.group_norm(
            hidden[row : row + 1, :, :valid], norm.num_groups, norm.weight, norm.bias, norm.eps
        )[0]
    return output


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
            return renormalise_padded_rows(norm, inputs[0], output, (lengths.samples - kernel) // stride + 1)

        layer.layer_norm.register_forward_hook(renormalise)
    return True
