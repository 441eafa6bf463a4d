"""``emoq train``: fit a Wav2Vec2 audio classifier on a speaker-split manifest and save a HF checkpoint."""
