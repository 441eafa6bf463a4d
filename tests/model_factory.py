"""Tiny Wav2Vec2 checkpoints built from a config and saved like real ones: nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

LABELS = ("angry", "happy", "neutral", "sad")


def save_tiny_checkpoint(directory: Path, *, norm: str = "group", seed: int = 0) -> Path:
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForSequenceClassification,
    )

    torch.manual_seed(seed)
    config = Wav2Vec2Config(
        vocab_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16, 16, 16),
        conv_kernel=(10, 3, 3),
        conv_stride=(5, 2, 2),
        feat_extract_norm=norm,
        do_stable_layer_norm=norm == "layer",
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        classifier_proj_size=16,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = Wav2Vec2ForSequenceClassification(config)
    # Random heads give nearly uniform scores; a larger head makes the answer depend on the audio.
    with torch.no_grad():
        model.classifier.weight.mul_(50.0)
    model.save_pretrained(directory)
    Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=norm == "layer",
    ).save_pretrained(directory)
    return directory
