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


def _labelled(config_class: type, **values: object) -> object:
    return config_class(
        id2label=dict(enumerate(LABELS)), label2id={label: i for i, label in enumerate(LABELS)}, **values
    )


def save_tiny_architecture(directory: Path, architecture: str, *, seed: int = 0) -> Path:
    """A tiny config-built checkpoint of another audio-classification family, with its own feature
    extractor: ``hubert``, ``wavlm`` (raw waveform, group norm), ``ast`` (fbank spectrogram) or
    ``whisper`` (log-mel encoder, here with 2-second inputs to stay small)."""
    import torch
    from transformers import (
        ASTConfig,
        ASTFeatureExtractor,
        ASTForAudioClassification,
        HubertConfig,
        HubertForSequenceClassification,
        Wav2Vec2FeatureExtractor,
        WavLMConfig,
        WavLMForSequenceClassification,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForAudioClassification,
    )

    torch.manual_seed(seed)
    encoder = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
    }
    conv = {
        "conv_dim": (16, 16, 16),
        "conv_kernel": (10, 3, 3),
        "conv_stride": (5, 2, 2),
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
        "classifier_proj_size": 16,
        "feat_extract_norm": "group",
    }
    waveform = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True)
    if architecture == "hubert":
        model, extractor = (
            HubertForSequenceClassification(_labelled(HubertConfig, **encoder, **conv)),
            waveform,
        )
    elif architecture == "wavlm":
        config = _labelled(WavLMConfig, **encoder, **conv, num_buckets=16, max_bucket_distance=40)
        model, extractor = WavLMForSequenceClassification(config), waveform
    elif architecture == "ast":
        frames, bins = 128, 32
        config = _labelled(ASTConfig, **encoder, patch_size=16, max_length=frames, num_mel_bins=bins)
        model = ASTForAudioClassification(config)
        extractor = ASTFeatureExtractor(num_mel_bins=bins, max_length=frames)
    elif architecture == "whisper":
        config = _labelled(
            WhisperConfig,
            d_model=32,
            encoder_layers=2,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            num_mel_bins=16,
            max_source_positions=100,
            classifier_proj_size=16,
        )
        model = WhisperForAudioClassification(config)
        extractor = WhisperFeatureExtractor(feature_size=16, chunk_length=2)
    else:
        raise ValueError(f"no tiny {architecture!r}")
    head = model.classifier.dense if architecture == "ast" else model.classifier
    with torch.no_grad():
        head.weight.mul_(50.0)
    model.save_pretrained(directory)
    extractor.save_pretrained(directory)
    return directory


# Whisper's special tokens, in the order its tokenizer expects: timestamps start right after the last.
_WHISPER_SPECIALS = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|notimestamps|>",
)
# <|0.00|> to <|30.00|> in steps of 20 ms, as in every Whisper vocabulary.
_WHISPER_TIMESTAMPS = 1501


def save_tiny_whisper_asr(directory: Path, *, seed: int = 0) -> Path:
    """A tiny Whisper speech recogniser with its tokenizer and feature extractor, all built offline: a
    byte-level vocabulary of lower-case letters and the space, Whisper's special and timestamp tokens,
    and a random network. What it writes is gibberish, timed by real timestamp tokens."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizer,
    )

    letters = [*"abcdefghijklmnopqrstuvwxyz", "Ġ"]  # Ġ: the byte-level BPE spelling of a space
    tokens = letters + list(_WHISPER_SPECIALS)
    tokens += [f"<|{step * 0.02:.2f}|>" for step in range(_WHISPER_TIMESTAMPS)]
    vocab = {token: index for index, token in enumerate(tokens)}
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[], unk_token="<|endoftext|>")
    # Timestamps stay ordinary tokens: the tokenizer finds them as the ids after the last special one.
    tokenizer.add_special_tokens({"additional_special_tokens": list(_WHISPER_SPECIALS)})
    ids = {token: vocab[token] for token in _WHISPER_SPECIALS}
    torch.manual_seed(seed)
    ends = {
        "pad_token_id": ids["<|endoftext|>"],
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|endoftext|>"],
        "decoder_start_token_id": ids["<|startoftranscript|>"],
    }
    config = WhisperConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        num_mel_bins=80,
        max_target_positions=64,
        **ends,
    )
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        **ends,
        no_timestamps_token_id=ids["<|notimestamps|>"],
        is_multilingual=False,
        max_initial_timestamp_index=50,
        max_length=48,
    )
    model.save_pretrained(directory)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
