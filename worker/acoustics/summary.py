"""Frame tracks read over a span: the whole recording's features and each timeline segment's.

A frame belongs to the span its centre falls in. Syllable nuclei are found once, over the whole
recording, so a segment counts the nuclei the recording has there.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from shared.schemas.results import AcousticFeatures, Classification
from worker.acoustics.tracks import Tracks

# A syllable nucleus is a peak of the frame level standing at least this far above the dips either side
# (de Jong & Wempe's 2 dB), in a voiced frame.
NUCLEUS_PROMINENCE_DB = 2.0
# No two nuclei closer than this: speech seldom exceeds 8 syllables a second.
NUCLEUS_MIN_GAP_SECONDS = 0.1


def describe(classification: Classification, tracks: Tracks) -> Classification:
    """The classification with the features of the whole recording and of each of its segments."""
    nuclei = syllable_nuclei(tracks)
    duration = classification.segments[-1].end_s if classification.segments else 0.0
    segments = [
        segment.model_copy(update={"features": summarise(tracks, nuclei, segment.start_s, segment.end_s)})
        for segment in classification.segments
    ]
    whole = summarise(tracks, nuclei, 0.0, duration)
    return classification.model_copy(update={"segments": segments, "features": whole})


def syllable_nuclei(tracks: Tracks) -> np.ndarray:
    """The times (s) of the syllable nuclei: voiced peaks of the level track (after de Jong & Wempe, 2009,
    without their intensity threshold relative to the recording's median)."""
    if not len(tracks.level_dbfs):
        return np.zeros(0)
    gap = max(1, round(NUCLEUS_MIN_GAP_SECONDS / tracks.hop_seconds))
    peaks, _ = find_peaks(tracks.level_dbfs, prominence=NUCLEUS_PROMINENCE_DB, distance=gap)
    voiced = peaks[~np.isnan(tracks.f0_hz[peaks])]
    return tracks.centres[voiced]


def summarise(tracks: Tracks, nuclei: np.ndarray, start_s: float, end_s: float) -> AcousticFeatures:
    # Frames and nuclei are in time order: a span is a slice, found in log time (an hour has 3,600
    # segments over 360,000 frames).
    first, stop = np.searchsorted(tracks.centres, [start_s, end_s], side="left")
    inside = slice(first, stop)
    level = tracks.level_dbfs[inside]
    f0 = tracks.f0_hz[inside]
    voiced = f0[~np.isnan(f0)]
    sounding = level >= tracks.silence_dbfs
    duration = end_s - start_s
    low, median, high = np.percentile(voiced, [5, 50, 95]) if voiced.size else (None, None, None)
    spread = np.percentile(level[sounding], [10, 95]) if sounding.sum() >= 2 else None
    return AcousticFeatures(
        pitch_median_hz=_round(median, 1),
        pitch_low_hz=_round(low, 1),
        pitch_high_hz=_round(high, 1),
        pitch_range_st=_round(12.0 * np.log2(high / low), 2) if voiced.size else None,
        voiced_share=round(voiced.size / level.size, 3) if level.size else 0.0,
        loudness_dbfs=_round(10.0 * np.log10(np.mean(10.0 ** (level / 10.0))), 2) if level.size else None,
        loudness_range_db=_round(spread[1] - spread[0], 2) if spread is not None else None,
        syllable_rate=_round(np.diff(np.searchsorted(nuclei, [start_s, end_s], side="left"))[0] / duration, 2)
        if duration > 0
        else None,
        spectral_centroid_hz=_round(np.mean(tracks.centroid_hz[inside][sounding]), 1)
        if sounding.any()
        else None,
        mfcc=[round(float(v), 2) for v in np.mean(tracks.mfcc[inside][sounding], axis=0)]
        if sounding.any()
        else None,
    )


def _round(value: float | np.floating | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)
