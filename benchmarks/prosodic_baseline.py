"""How far hand-crafted features get on EmoDB's speakers, as a yardstick for the shipped model.

    .venv/bin/python benchmarks/prosodic_baseline.py

The clips of ``../shared/data/emodb`` (conditioned as the shipped model's are: trimmed at 40 dB, peak
normalised) are described by 40 log-mel bands and 20 MFCCs (means and spreads), loudness, YIN pitch and
its movement, spectral centroid, flatness and zero-crossing rate (means, spreads, 10th and 90th
percentiles) and the voiced share. A logistic regression and an RBF SVM are scored leaving speakers out
over the four folds of the model card, with the features standardised either over the training clips
(what a service scoring one clip can do) or per speaker (which needs a speaker's other recordings).
Prints the UAR of every fold and their mean.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import librosa
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shared.audio import decode_to_mono  # noqa: E402
from worker.conditioning import Conditioning  # noqa: E402

EMODB = REPO.parent / "shared" / "data" / "emodb"
FOLDS = [
    ("emodb_14", "emodb_15"),
    ("emodb_03", "emodb_08"),
    ("emodb_10", "emodb_09"),
    ("emodb_12", "emodb_16"),
]
RATE, FRAME, HOP = 16000, 400, 160


def spread(values: np.ndarray) -> list[float]:
    if len(values) == 0:
        return [0.0] * 4
    return [float(np.mean(values)), float(np.std(values)), *np.percentile(values, [10, 90]).tolist()]


def describe(path: Path, conditioning: Conditioning) -> np.ndarray:
    wave = conditioning.apply(decode_to_mono(path, target_rate=RATE, max_seconds=600), RATE)[0]
    mel = librosa.power_to_db(
        librosa.feature.melspectrogram(y=wave, sr=RATE, n_fft=FRAME, hop_length=HOP, n_mels=40) + 1e-10
    )
    mfcc = librosa.feature.mfcc(S=mel, n_mfcc=20)
    loudness = 20 * np.log10(librosa.feature.rms(y=wave, frame_length=FRAME, hop_length=HOP)[0] + 1e-5)
    pitch = librosa.yin(wave, fmin=60, fmax=450, sr=RATE, frame_length=1024, hop_length=HOP)
    voiced = loudness[: len(pitch)] > loudness.max() - 30
    log_pitch = np.log(pitch[voiced])
    frames = {"n_fft": FRAME, "hop_length": HOP}
    return np.array(
        [
            *mel.mean(1),
            *mel.std(1),
            *mfcc.mean(1),
            *mfcc.std(1),
            *librosa.feature.delta(mfcc).std(1),
            *spread(loudness),
            *spread(log_pitch),
            *spread(np.diff(log_pitch)),
            *spread(librosa.feature.spectral_centroid(y=wave, sr=RATE, **frames)[0]),
            *spread(librosa.feature.spectral_flatness(y=wave, **frames)[0]),
            *spread(librosa.feature.zero_crossing_rate(wave, frame_length=FRAME, hop_length=HOP)[0]),
            voiced.mean(),
        ]
    )


def per_speaker(features: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    normalised = features.copy()
    for speaker in np.unique(speakers):
        mine = speakers == speaker
        normalised[mine] = (features[mine] - features[mine].mean(0)) / (features[mine].std(0) + 1e-8)
    return normalised


def main() -> None:
    manifest = EMODB / "manifest.csv"
    if not manifest.is_file():
        raise SystemExit(f"no EmoDB at {EMODB}: this study needs ../shared/data")
    rows = list(csv.DictReader(manifest.open()))
    conditioning = Conditioning(trim_db=40, normalize="peak")
    features = np.stack([describe(EMODB / row["path"], conditioning) for row in rows])
    labels = np.array([row["label"] for row in rows])
    speakers = np.array([row["speaker"] for row in rows])
    classifiers = {
        "logistic regression": lambda: LogisticRegression(C=0.1, max_iter=3000, class_weight="balanced"),
        "RBF SVM": lambda: SVC(C=1.0, class_weight="balanced"),
    }
    print("| standardised | classifier | " + " | ".join("/".join(f) for f in FOLDS) + " | mean |")
    print("| --- | --- |" + " ---: |" * (len(FOLDS) + 1))
    for scope, described in (
        ("over training clips", features),
        ("per speaker", per_speaker(features, speakers)),
    ):
        for name, make in classifiers.items():
            uars = []
            for fold in FOLDS:
                held_out = np.isin(speakers, fold)
                scaler = StandardScaler().fit(described[~held_out])
                model = make().fit(scaler.transform(described[~held_out]), labels[~held_out])
                predicted = model.predict(scaler.transform(described[held_out]))
                uars.append(recall_score(labels[held_out], predicted, average="macro"))
            cells = " | ".join(f"{u:.3f}" for u in uars)
            print(f"| {scope} | {name} | {cells} | {np.mean(uars):.3f} |")


if __name__ == "__main__":
    main()
