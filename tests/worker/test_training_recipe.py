"""A training through the API follows the shipped model's recipe from scratch, and its base's windows and
input conditioning when it fine-tunes; a fine-tuned checkpoint never inherits its base's temperature."""

from __future__ import annotations

import json
from pathlib import Path

from shared.config import SHIPPED_MODEL
from tests.model_factory import save_tiny_checkpoint
from worker.conditioning import Conditioning
from worker.training.architecture import build_model
from worker.training.recipe import SHIPPED, Recipe, recipe_for


def _with_config(checkpoint: Path, **values: object) -> Path:
    path = checkpoint / "config.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | values))
    return checkpoint


def test_from_scratch_is_the_recipe_the_shipped_checkpoint_was_made_with() -> None:
    config = json.loads((SHIPPED_MODEL / "config.json").read_text())
    recipe = recipe_for(None)

    assert recipe == SHIPPED
    assert recipe.augment.crop_seconds == config["emoq_window_seconds"]
    assert recipe.hop_seconds == config["emoq_hop_seconds"]
    assert recipe.conditioning == Conditioning(**config["emoq_preprocessing"])
    built = build_model(list(config["label2id"]), preset=recipe.preset).config
    for key in ("conv_dim", "conv_kernel", "conv_stride", "hidden_size", "num_hidden_layers"):
        assert built.to_dict()[key] == config[key], key
    # The augmentation is not in config.json; the card's command names it.
    card = (SHIPPED_MODEL / "README.md").read_text()
    assert f"--speed-range {recipe.augment.speed_range} --tempo-range {recipe.augment.tempo_range}" in card


def test_fine_tuning_keeps_the_windows_and_conditioning_of_its_base(tmp_path: Path) -> None:
    base = _with_config(
        save_tiny_checkpoint(tmp_path / "base"),
        emoq_window_seconds=2.5,
        emoq_hop_seconds=1.25,
        emoq_preprocessing={"trim_db": 30, "normalize": "peak"},
    )
    recipe = recipe_for(base)

    assert recipe.preset is None
    assert (recipe.augment.crop_seconds, recipe.hop_seconds) == (2.5, 1.25)
    assert recipe.conditioning == Conditioning(trim_db=30, normalize="peak")
    # A checkpoint that names neither gets the defaults, unconditioned.
    assert recipe_for(save_tiny_checkpoint(tmp_path / "plain")) == Recipe(preset=None)


def test_a_model_built_on_a_checkpoint_leaves_its_temperature_and_conditioning_behind(tmp_path: Path) -> None:
    base = _with_config(
        save_tiny_checkpoint(tmp_path / "base"),
        emoq_temperature=1.5,
        emoq_preprocessing={"trim_db": 30, "normalize": "peak"},
    )

    config = build_model(["angry", "sad"], init_from=base).config.to_dict()

    assert "emoq_temperature" not in config and "emoq_preprocessing" not in config
