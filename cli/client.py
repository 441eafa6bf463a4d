"""``emoq submit | batch | status | results | watch``: a client of the public HTTP API, nothing else.

Exit codes scripts can rely on: 0 every job succeeded; 1 a job failed or was cancelled; 2 bad usage or
a request the server refused (4xx); 3 the server could not be reached or failed (5xx); 4 not found.
Where several files each have an outcome, the highest of their codes is the command's.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

OK, JOB_FAILED, REFUSED, UNAVAILABLE, NOT_FOUND = 0, 1, 2, 3, 4
FINAL = {"succeeded", "failed", "cancelled"}
POLL_SECONDS = 0.5
# The acoustic features `emoq results` shows, by their column name in the table.
TABLE_FEATURES = {
    "pitch_median_hz": "pitch_hz",
    "loudness_dbfs": "loudness_dbfs",
    "syllable_rate": "syllables_per_s",
}
MODEL_HELP = (
    "a served model's name or your model version's id, from `emoq models list` (default: your default)"
)
FEATURES_HELP = "also measure pitch, loudness, speaking rate, spectral centroid and MFCCs"


class ClientSettings(BaseSettings):
    """Where the client finds the server; flags override these."""

    model_config = SettingsConfigDict(env_prefix="EMOQ_", extra="ignore")

    url: str = "http://127.0.0.1:8000"
    api_key: str | None = None


class ClientError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_server_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--url", help="server URL (default: EMOQ_URL or http://127.0.0.1:8000)")
    parser.add_argument("--api-key", help="API key (default: EMOQ_API_KEY)")
    return parser


def register(subparsers: argparse._SubParsersAction) -> None:
    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return add_server_options(subparsers.add_parser(name, help=help_text))

    submit = command("submit", "submit audio files as jobs")
    submit.add_argument("files", nargs="+", type=Path)
    submit.add_argument("--wait", action="store_true", help="wait and print the scores")
    submit.add_argument("--webhook", help="webhook URL notified when each job ends")
    submit.add_argument("--features", action="store_true", help=FEATURES_HELP)
    submit.add_argument(
        "--transcribe", action="store_true", help="also transcribe, with each utterance's emotion"
    )
    submit.add_argument("--model", help=MODEL_HELP)
    submit.set_defaults(handler=with_client(_submit))
    batch = command("batch", "submit every audio file of a folder or glob as one batch")
    batch.add_argument("source", help="a folder, or a glob such as 'calls/*.wav'")
    batch.add_argument("--wait", action="store_true", help="wait and print the summary")
    batch.add_argument("--webhook", help="webhook URL notified of every job and of the batch")
    batch.add_argument("--features", action="store_true", help=FEATURES_HELP)
    batch.add_argument("--transcribe", action="store_true", help="also transcribe every file")
    batch.add_argument("--model", help=MODEL_HELP)
    batch.set_defaults(handler=with_client(_batch))
    status = command("status", "print a job's or a batch's status as JSON")
    status.add_argument("id", type=job_or_batch_id)
    status.set_defaults(handler=with_client(_status))
    results = command("results", "print every finished job of a batch")
    results.add_argument("batch_id", type=job_or_batch_id)
    results.add_argument("--format", choices=["table", "json", "csv"], default="table")
    results.set_defaults(handler=with_client(_results))
    watch = command("watch", "show a job's or a batch's progress until it ends, then its scores")
    watch.add_argument("id", type=job_or_batch_id)
    watch.set_defaults(handler=with_client(_watch))


def job_or_batch_id(text: str) -> str:
    """Ids are UUIDs: anything else is a typo, said at once rather than as the server's 422 or 404."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an id: job and batch ids are UUIDs, such as 6f1c2d9e-8a43-4b1f-9a6e-2f0c5e7d8b11"
        ) from None


def with_client(action: Any) -> Any:
    """A command's handler: ``action(client, args)`` with a client for the server, errors as exit codes."""

    def handler(args: argparse.Namespace) -> int:
        settings = ClientSettings()
        headers = {"Authorization": f"Bearer {key}"} if (key := args.api_key or settings.api_key) else {}
        try:
            with httpx.Client(base_url=args.url or settings.url, headers=headers, timeout=120) as client:
                return action(client, args)
        except ClientError as error:
            print(f"emoq: {error}", file=sys.stderr)
            return error.exit_code
        except httpx.HTTPError as error:
            print(f"emoq: cannot reach the server ({type(error).__name__})", file=sys.stderr)
            return UNAVAILABLE

    return handler


def request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return raise_for_problem(client.request(method, path, **kwargs))


def raise_for_problem(response: httpx.Response) -> httpx.Response:
    """The response if it succeeded; else a ClientError with the problem's code and detail."""
    if response.status_code < 400:
        return response
    try:
        problem = response.json()
        message = f"{problem.get('code', response.status_code)}: {problem.get('detail', '')}"
    except ValueError:
        message = f"HTTP {response.status_code}"
    code = (
        NOT_FOUND if response.status_code == 404 else REFUSED if response.status_code < 500 else UNAVAILABLE
    )
    raise ClientError(message, code)


def _submit(client: httpx.Client, args: argparse.Namespace) -> int:
    """Every file is sent whatever happens to the others; the exit code is the worst file's outcome."""
    jobs, refusals = [], []
    for path in args.files:
        try:
            job = _send_file(client, path, _options(args))
        except ClientError as error:
            print(f"emoq: {path}: {error}", file=sys.stderr)
            refusals.append(error.exit_code)
            continue
        print(job["id"], path.name, sep="\t")
        jobs.append(job)
    if args.wait:
        jobs = [_wait_job(client, job["id"]) for job in jobs]
        for job in jobs:
            _print_job(job)
    outcomes = [*refusals, *(_job_outcome(job) if args.wait else OK for job in jobs)]
    return max(outcomes, default=OK)


def _send_file(client: httpx.Client, path: Path, data: dict[str, str]) -> dict[str, Any]:
    if not path.is_file():
        raise ClientError("no such file", REFUSED)
    try:
        with path.open("rb") as audio:
            return request(client, "POST", "/v1/jobs", files={"file": (path.name, audio)}, data=data).json()
    except httpx.HTTPError as error:
        raise ClientError(f"cannot reach the server ({type(error).__name__})", UNAVAILABLE) from error


def _options(args: argparse.Namespace) -> dict[str, str]:
    """The form fields beside the audio; a field left at the server's default is not sent, as older
    servers expect."""
    given = {"webhook_url": args.webhook, "model": args.model}
    fields = {name: value for name, value in given.items() if value}
    return fields | {flag: "true" for flag in ("features", "transcribe") if getattr(args, flag)}


def _job_outcome(job: dict[str, Any]) -> int:
    return OK if job["status"] == "succeeded" else JOB_FAILED


def _batch(client: httpx.Client, args: argparse.Namespace) -> int:
    source = Path(args.source)
    paths = (
        sorted(p for p in source.iterdir() if p.is_file())
        if source.is_dir()
        else sorted(Path(p) for p in glob.glob(args.source) if Path(p).is_file())
    )
    if not paths:
        raise ClientError(f"no files in {args.source}", REFUSED)
    data = _options(args)
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    created = request(client, "POST", "/v1/batches", files=files, data=data).json()
    print(created["id"], f"{len(created['job_ids'])} jobs", sep="\t")
    if not args.wait:
        return OK
    return _finish_batch(client, created["id"])


def _finish_batch(client: httpx.Client, batch_id: str) -> int:
    """Wait for the batch, then show each job's outcome and the counts."""
    batch = _wait_batch(client, batch_id)
    _print_table(_result_rows(client, batch_id))
    print(json.dumps(batch["counts"]))
    return OK if batch["counts"]["succeeded"] == batch["job_count"] else JOB_FAILED


def _status(client: httpx.Client, args: argparse.Namespace) -> int:
    print(json.dumps(_find(client, args.id)[1], indent=2))
    return OK


def _watch(client: httpx.Client, args: argparse.Namespace) -> int:
    kind, _ = _find(client, args.id)
    if kind == "batch":
        return _finish_batch(client, args.id)
    job = _wait_job(client, args.id)
    _print_job(job)
    return _job_outcome(job)


def _results(client: httpx.Client, args: argparse.Namespace) -> int:
    if args.format == "csv":
        response = request(
            client, "GET", f"/v1/batches/{args.batch_id}/results", headers={"Accept": "text/csv"}
        )
        sys.stdout.write(response.text)
        return OK
    rows = _result_rows(client, args.batch_id)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return OK
    _print_table(rows)
    return OK


def _result_rows(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    lines = request(client, "GET", f"/v1/batches/{batch_id}/results").text.splitlines()
    return [json.loads(line) for line in lines]


def _print_table(rows: list[dict[str, Any]]) -> None:
    """One line per finished job: its file, status, dominant emotion and score (or error code), the
    score's margin over the runner-up and whether it falls below the server's confidence threshold;
    with the median pitch, loudness and syllable rate when the jobs measured acoustic features."""
    with_features = any((row.get("result") or {}).get("features") for row in rows)
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    header = ["file", "status", "dominant", "score", "margin", "low_confidence"]
    writer.writerow(header + (list(TABLE_FEATURES.values()) if with_features else []))
    for row in rows:
        result = row.get("result") or {}
        features = result.get("features") or {}
        dominant = result.get("dominant") or {}
        confidence = result.get("confidence") or {}
        low = result.get("low_confidence")
        error = (row.get("error") or {}).get("code", "")
        writer.writerow(
            [
                row.get("file") or row["job_id"],
                row["status"],
                dominant.get("label", error),
                f"{dominant['score']:.3f}" if dominant else "",
                f"{confidence['margin']:.3f}" if confidence else "",
                "" if low is None else str(low).lower(),
                *(_value(features.get(name)) for name in (TABLE_FEATURES if with_features else [])),
            ]
        )


def _value(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _find(client: httpx.Client, identifier: str) -> tuple[str, dict[str, Any]]:
    for kind, path in (("job", f"/v1/jobs/{identifier}"), ("batch", f"/v1/batches/{identifier}")):
        response = client.get(path)
        if response.status_code == 200:
            return kind, response.json()
        if response.status_code != 404:
            request(client, "GET", path)  # raises with the server's problem
    raise ClientError(f"no job or batch {identifier}", NOT_FOUND)


def _wait_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    from tqdm import tqdm

    with tqdm(total=100, desc=job_id[:8], unit="%", file=sys.stderr, leave=False) as bar:
        while True:
            job = request(client, "GET", f"/v1/jobs/{job_id}").json()
            bar.set_postfix_str(job["status"])
            bar.update(round(job["progress"] * 100) - bar.n)
            if job["status"] in FINAL:
                return job
            time.sleep(POLL_SECONDS)


def _wait_batch(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    from tqdm import tqdm

    with tqdm(desc=batch_id[:8], unit="job", file=sys.stderr, leave=False) as bar:
        while True:
            batch = request(client, "GET", f"/v1/batches/{batch_id}", params={"limit": 1}).json()
            bar.total = batch["job_count"]
            done = sum(batch["counts"][status] for status in FINAL)
            bar.update(done - bar.n)
            if batch["status"] == "completed":
                return batch
            time.sleep(POLL_SECONDS)


def _print_job(job: dict[str, Any]) -> None:
    name = job["input"].get("filename") or job["id"]
    if job["status"] != "succeeded":
        error = job.get("error") or {}
        print(f"{name}: {job['status']} {error.get('code', '')} {error.get('message', '')}".rstrip())
        return
    result = job["result"]
    flag = " (low confidence)" if result.get("low_confidence") else ""
    model = result["model"]
    by = f"{model['name']}: {model['id']}" if model.get("name") else model["id"]
    print(f"{name}: {result['dominant']['label']}{flag}  [{by}]")
    for score in result["scores"]:
        print(f"  {score['label']:<10} {score['score']:6.3f}  {'#' * round(score['score'] * 40)}")
    if confidence := result.get("confidence"):
        print(f"  confidence {confidence['score']:.3f}, margin {confidence['margin']:.3f}")
    if affect := result.get("affect"):
        print(f"  arousal {affect['arousal']:+.2f}, valence {affect['valence']:+.2f} (derived)")
    if features := result.get("features"):
        _print_features(features)
    for episode in result.get("episodes") or []:
        dominant = episode["dominant"]
        print(
            f"  {episode['start_s']:8.2f}-{episode['end_s']:<8.2f} {dominant['label']:<10}"
            f" {dominant['score']:6.3f}"
        )
    if (utterances := result.get("utterances")) is not None:
        print(f"  transcript, {len(utterances)} utterances:")
    for utterance in utterances or []:
        emotion = (utterance.get("dominant") or {}).get("label", "-")
        print(
            f"    {utterance['start_s']:8.2f}-{utterance['end_s']:<8.2f} {emotion:<10} {json.dumps(utterance['text'])}"
        )


def _print_features(features: dict[str, Any]) -> None:
    if features.get("pitch_median_hz") is not None:
        print(
            f"  pitch {features['pitch_median_hz']:.0f} Hz median, {features['pitch_low_hz']:.0f}-"
            f"{features['pitch_high_hz']:.0f} Hz ({features['pitch_range_st']:.1f} st),"
            f" voiced {features['voiced_share']:.0%}"
        )
    else:
        print("  pitch: no voiced frames")
    facts = [
        f"loudness {features['loudness_dbfs']:.1f} dBFS" if features.get("loudness_dbfs") is not None else "",
        f"range {features['loudness_range_db']:.1f} dB"
        if features.get("loudness_range_db") is not None
        else "",
        f"{features['syllable_rate']:.1f} syllables/s" if features.get("syllable_rate") is not None else "",
        f"centroid {features['spectral_centroid_hz']:.0f} Hz"
        if features.get("spectral_centroid_hz") is not None
        else "",
    ]
    print("  " + ", ".join(fact for fact in facts if fact))
