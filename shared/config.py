"""The one place configuration is read: environment variables prefixed ``EMOQ_``."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.catalog.names import DEFAULT_NAME, ModelEntry, parse_models, parse_names

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = REPO_ROOT / "models" / "emoq-emodb-small"
LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128", "localhost"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMOQ_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    # repr=False: URLs may carry passwords, and settings must be safe to print or log.
    database_url: str = Field(default="", repr=False, description="Empty: SQLite file in data_dir")
    broker_url: str = Field(
        default="", repr=False, description="Empty: the serverless filesystem transport in data_dir"
    )
    storage_url: str = Field(default="", description="Empty: file://<data dir>/audio")
    storage_dir: Path | None = Field(default=None, description="Deprecated: EMOQ_STORAGE_URL=file://<dir>")
    # Unset, boto3 reads the standard AWS variables and files (AWS_ACCESS_KEY_ID, AWS_REGION, ...).
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    model: str = str(SHIPPED_MODEL)
    model_revision: str | None = None
    # name=source,...: several models, each on its own queues; empty: EMOQ_MODEL alone, named "default".
    models: str = ""
    # The models an inference worker loads and takes jobs for; empty: all of them.
    worker_models: str = ""
    # Registered model versions (custom models) a worker process keeps loaded, the least recently used
    # dropped first; and where their archives are unpacked, once per revision (empty: <data dir>/model-cache).
    model_cache_size: int = Field(default=4, ge=1)
    model_cache_dir: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16", "int8"] = "auto"
    inference_batch_size: int = Field(default=8, ge=1)
    inference_linger_ms: float = Field(default=10.0, ge=0)
    window_seconds: float | None = Field(default=None, gt=0)
    hop_seconds: float | None = Field(default=None, gt=0)
    silence_dbfs: float = -50.0
    # None: the model's calibrated threshold (emoq_low_confidence in its config), else 0.5.
    low_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    episode_min_seconds: float = Field(default=3.0, ge=0.0)
    episode_switch_margin: float = Field(default=0.1, ge=0.0, le=1.0)
    # A transformers speech-recognition checkpoint (hub id or folder) for transcribe=true; unset: refused.
    asr_model: str | None = None
    asr_revision: str | None = None
    asr_chunk_seconds: float = Field(default=30.0, gt=0)
    # None: the checkpoint's generation config, else the pipeline's default (5 beams for Whisper).
    asr_beams: int | None = Field(default=None, ge=1)

    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    max_audio_seconds: float = Field(default=3600.0, gt=0)
    max_metadata_bytes: int = Field(default=4096, ge=2)

    max_batch_files: int = Field(default=1000, ge=1)
    max_batch_bytes: int = Field(default=2 * 1024**3, ge=1)
    # Datasets (POST /v1/datasets): labelled clips checked on upload; each clip also obeys max_upload_bytes
    # and max_audio_seconds.
    max_dataset_files: int = Field(default=5000, ge=2)
    max_dataset_bytes: int = Field(default=2 * 1024**3, ge=1, description="The upload, and a zip unpacked")
    dataset_min_files_per_label: int = Field(default=5, ge=1)
    # Trainings (POST /v1/trainings), run one at a time per `emoq trainer` process.
    training_default_epochs: int = Field(default=10, ge=1, description="When a training does not say")
    training_max_epochs: int = Field(default=100, ge=1, description="Most epochs a training may ask for")
    training_concurrency: int = Field(default=1, ge=1, description="Training processes per `emoq trainer`")
    max_archive_ratio: float = Field(default=100.0, gt=1, description="Unpacked to packed, per zip entry")
    download_timeout_seconds: float = Field(default=30.0, gt=0)
    download_max_redirects: int = Field(default=5, ge=0)
    allowed_private_hosts: str = Field(default="", description="Comma-separated hosts or CIDRs")

    webhook_secret: SecretStr | None = None
    webhook_rotation_grace_seconds: int = Field(default=86400, ge=0)
    # Fernet keys, comma-separated, newest first: they seal the per-key webhook secrets at rest.
    secret_key: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    webhook_concurrency: int = Field(default=4, ge=1)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)

    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    requeue_after_seconds: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    audio_retention_seconds: int = Field(default=0, ge=0)
    result_retention_days: float = Field(default=30.0, ge=0)

    job_lease_seconds: int = Field(default=120, ge=5)
    task_max_retries: int = Field(default=8, ge=0)
    broker_visibility_timeout: int = Field(default=6 * 3600, ge=60)
    worker_concurrency: int | None = Field(
        default=None, ge=1, description="Inference processes per worker; unset: one per GPU, else per core"
    )
    torch_threads: int = Field(
        default=0,
        ge=0,
        description="0: the cores shared out among worker processes, idle ones' lent to busy ones",
    )
    worker_nice: int = Field(
        default=10, ge=0, le=19, description="How far inference and training workers lower their CPU priority"
    )

    # Auth is on unless turned off, and it may be turned off only where nobody else can connect.
    auth_disabled: bool = False
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Jobs created per key per minute")
    max_active_jobs_per_key: int = Field(default=10000, ge=1, description="Queued + processing per key")

    # How long `Prefer: wait=N` on POST /v1/jobs, and POST /predict, may hold a request open.
    max_wait_seconds: int = Field(default=30, ge=0, le=600)
    cors_origins: str = Field(default="", description="Comma-separated origins allowed by CORS; empty: none")

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Workers serve /metrics on their own port (the API serves it on its own); 0 turns it off.
    metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9101, ge=0, le=65535)
    webhooks_metrics_port: int = Field(default=9102, ge=0, le=65535)
    training_metrics_port: int = Field(default=9104, ge=0, le=65535)
    # The API's /metrics is served on this listener, apart from the API's port (0: not at all).
    metrics_port: int = Field(default=9103, ge=0, le=65535)
    metrics_token: SecretStr | None = Field(default=None, description="Also serve /metrics on the API port")
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'emoq.db').resolve()}"
        if not self.broker_url:
            self.broker_url = "filesystem://"
        if not self.storage_url:
            self.storage_url = (self.storage_dir or self.data_dir / "audio").resolve().as_uri()
        return self

    @field_validator("storage_url")
    @classmethod
    def _known_storage_scheme(cls, value: str) -> str:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("EMOQ_STORAGE_URL is file:///absolute/folder or s3://bucket[/prefix]")
        return value

    @model_validator(mode="after")
    def _auth_off_only_on_loopback(self) -> Settings:
        if self.auth_disabled and not is_loopback_host(self.api_host):
            raise ValueError(
                f"EMOQ_AUTH_DISABLED=true is refused with EMOQ_API_HOST={self.api_host}: "
                "without API keys the API may only listen on a loopback address (127.0.0.1, ::1, localhost)"
            )
        return self

    @model_validator(mode="after")
    def _sealing_key_in_production(self) -> Settings:
        if self.env == "production" and not self.auth_disabled and self.secret_key is None:
            raise ValueError(
                "EMOQ_SECRET_KEY is required in production: it seals the API keys' webhook secrets "
                "(a Fernet key: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
        return self

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        from cryptography.fernet import Fernet

        keys = [part.strip() for part in value.get_secret_value().split(",") if part.strip()]
        if not keys:
            raise ValueError("EMOQ_SECRET_KEY is empty")
        for key in keys:
            try:
                Fernet(key)
            except ValueError:
                # Never the key itself in the message: settings errors are printed.
                raise ValueError("EMOQ_SECRET_KEY holds a value that is not a Fernet key") from None
        return value

    @field_validator("models")
    @classmethod
    def _model_list(cls, value: str) -> str:
        if value.strip():
            parse_models(value)
        return value

    @model_validator(mode="after")
    def _worker_models_known(self) -> Settings:
        parse_names(self.worker_models, self.model_names)
        return self

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("whsec_"):
            raise ValueError("EMOQ_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ + base64")
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule_of_seconds(cls, value: str) -> str:
        if not all(part.strip().isdigit() for part in value.split(",")):
            raise ValueError("EMOQ_WEBHOOK_RETRY_SCHEDULE is a comma-separated list of seconds")
        return value

    @property
    def webhook_retry_delays(self) -> list[int]:
        """Seconds to wait before each retry after the first attempt."""
        return [int(part) for part in self.webhook_retry_schedule.split(",")]

    @property
    def model_entries(self) -> list[ModelEntry]:
        """The models served, the default first."""
        if self.models.strip():
            return parse_models(self.models)
        return [ModelEntry(name=DEFAULT_NAME, source=self.model, revision=self.model_revision)]

    @property
    def model_names(self) -> list[str]:
        return [entry.name for entry in self.model_entries]

    @property
    def default_model(self) -> str:
        return self.model_entries[0].name

    @property
    def worker_model_names(self) -> list[str]:
        return parse_names(self.worker_models, self.model_names)

    @property
    def private_host_allowlist(self) -> list[str]:
        return [part.strip() for part in self.allowed_private_hosts.split(",") if part.strip()]

    @property
    def transcription_available(self) -> bool:
        return bool(self.asr_model)

    @property
    def cors_origin_list(self) -> list[str]:
        return [part.strip() for part in self.cors_origins.split(",") if part.strip()]

    @property
    def loopback_development(self) -> bool:
        """``make run``: one local user, no keys, nobody else can connect. Conveniences that would be
        holes on a shared server (a development webhook secret, loopback receivers) apply only here."""
        return self.auth_disabled and is_loopback_host(self.api_host) and self.env == "development"

    @property
    def webhook_allowlist(self) -> list[str]:
        """Where webhooks may go although private: the operator's list, and this machine in development."""
        return self.private_host_allowlist + (LOOPBACK_NETWORKS if self.loopback_development else [])

    @property
    def sealing_keys(self) -> list[str] | None:
        if self.secret_key is None:
            return None
        return [part.strip() for part in self.secret_key.get_secret_value().split(",") if part.strip()]

    @property
    def local_storage_dir(self) -> Path | None:
        """The folder of a file:// store; None for object storage."""
        if not self.storage_url.startswith("file://"):
            return None
        return Path(url2pathname(urlsplit(self.storage_url).path))

    @property
    def unpacked_models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "model-cache"

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format == "auto" and self.env == "production")


def is_loopback_host(host: str) -> bool:
    """Only this machine can connect to it. A host name other than localhost may resolve anywhere."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
