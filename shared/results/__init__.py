"""What a result says beyond its scores: how sure it is, its episodes, its arousal and valence."""
