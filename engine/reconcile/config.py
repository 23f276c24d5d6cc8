"""``labform.reconcile.yaml``: the workspaces a reconcile loop keeps in step with git.

Read through the plan loader (``engine/loader.py``: the same size, alias and nesting
caps, every key's file:line:col) and checked by the pydantic models below, so a
mistake is reported as a plan's is: ``labform.reconcile.yaml:7:5: workspaces.shop:
unknown field 'evry'``. The JSON Schema (``labform reconcile schema``) is made from
the same models.

Its ``encryption:`` section has a plan's shape (engine/encryption/config.py), merged under
LABFORM_ENCRYPTION as a plan's is, and names one target, ``reconciliations``: the rows of
every workspace are the loop's, so their key is the loop's too; a workspace's state and
saved plans follow its own plan's ``encryption:``.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from labform.engine.arguments import plain_message
from labform.engine.config import suggestion
from labform.engine.encryption.config import EncryptionBlock
from labform.engine.errors import ConfigError, ConfigErrors
from labform.engine.loader import KeyPath, Positions, _decode, _display, _document, _read
from labform.engine.reconcile import credentials
from labform.engine.reconcile.credentials import EnvFile, EnvValue
from labform.engine.reconcile.policy import Rules, compile_rules
from labform.providers import ratelimit
from labform.providers.polling import NonNegativeDuration, PositiveDuration

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target

CONFIG_FILE = "labform.reconcile.yaml"
SCHEMA_FILE = "labform.reconcile.schema.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mode(StrEnum):
    DETECT = "detect"  # plan and report only
    AUTO = "auto"  # apply when every rule holds; otherwise hold the plan for approval
    APPROVE = "approve"  # save the plan; apply it only once approved


class Policy(_Strict):
    """What a reconcile may do with the plan it made."""

    mode: Mode = Field(
        Mode.DETECT,
        description="detect: plan and report; auto: apply within the rules; approve: save the plan for 'labform reconcile approve'.",
    )
    rules: Rules = Field(
        default_factory=dict,
        description="Named CEL rules over the plan JSON (docs/plan-json.md); each must hold for auto to apply, e.g. "
        "no_deletes: 'resource_changes.all(c, !(\"delete\" in c.change.actions))'.",
    )


class GitAuth(_Strict):
    """How git authenticates to the repository (none: a local path or a public URL)."""

    ssh_key_file: Path | None = Field(None, description="Private key for an ssh:// or git@ URL (GIT_SSH_COMMAND -i).")
    token_env: str | None = Field(
        None, description="Environment variable holding an HTTPS token, sent as a bearer Authorization header."
    )


class WorkspaceSpec(_Strict):
    """One plan folder in one repository, reconciled on its own schedule with its own state and credentials."""

    repo: str = Field(description="A git repository: a local path or a URL git can fetch.", min_length=1)
    ref: str = Field("main", description="Branch, tag or commit to reconcile.", min_length=1)
    path: str = Field(".", description="The plan folder inside the repository.")
    state: str | None = Field(
        None, description="State backend (a file path or postgresql://...); default: the database, ?workspace=NAME."
    )
    every: PositiveDuration = Field(600.0, description="How often to reconcile (10m, 1h).")
    vars: dict[str, Any] = Field(default_factory=dict, description="Variables, as --var gives them.")
    var_files: list[str] = Field(default_factory=list, description="-var-file files, from the repository's root.")
    env: dict[str, EnvValue] = Field(
        default_factory=dict,
        description="Environment the plan reads (${env.X}) for this workspace only: a plain value, "
        "{file: PATH} (a secret file's text) or {command: [PROGRAM, ARGS...]} (its output); the last two sensitive.",
    )
    env_files: list[EnvFile] = Field(
        default_factory=list,
        description="NAME=VALUE lines (dotenv) added to env, from a file or {command: [PROGRAM, ARGS...]}: "
        "credentials kept out of the config, every value sensitive.",
    )
    git: GitAuth = GitAuth.model_validate({})
    policy: Policy = Policy.model_validate({})


class Backoff(_Strict):
    initial: PositiveDuration = Field(30.0, description="Wait after a first failure; doubled after each further one.")
    max: PositiveDuration = Field(3600.0, description="The longest wait between failing reconciles.")


class Webhook(_Strict):
    """``labform reconcile serve``: GitHub push webhooks, /healthz and /metrics."""

    secret_env: str | None = Field(None, description="Environment variable holding the webhook's HMAC secret.")
    secret_file: Path | None = Field(None, description="File holding the webhook's HMAC secret.")
    listen: str = Field("127.0.0.1", description="Address to bind: loopback unless told otherwise.")
    port: int = Field(8089, ge=0, le=65535)


class RateLimit(_Strict):
    """Requests a second to one endpoint of a cloud, for all a worker's reconciles together."""

    per_second: float = Field(gt=0, description="Requests a second, sustained (each retry counts).")
    burst: int | None = Field(
        None, ge=1, description="Requests that may go at once after a quiet spell [default: per_second, at least 1]."
    )

    def rate(self) -> ratelimit.Rate:
        return ratelimit.Rate(self.per_second, self.burst or max(1, int(self.per_second)))


class ReconcileConfig(_Strict):
    """The reconcile loop's configuration (labform.reconcile.yaml)."""

    database: str = Field(description="PostgreSQL URL: the job queue and the reconciliations live here.", min_length=1)
    cache_dir: Path = Field(
        Path(".labform-reconcile"), description="Where repositories are checked out (from the config's folder)."
    )
    reports_dir: Path = Field(
        Path("reconcile-reports"), description="Where each drift report is written (from the config's folder)."
    )
    heartbeat_timeout: PositiveDuration = Field(
        30.0, description="A worker silent this long is dead: its job is taken over."
    )
    backoff: Backoff = Backoff.model_validate({})
    first_spread: NonNegativeDuration = Field(
        30.0,
        description="A workspace never reconciled is first reconciled at its own fixed moment within this long "
        "(a tenth of its every at most), so a fresh fleet does not reach the clouds at one second; 0s: at once.",
    )
    rate_limits: dict[str, RateLimit] = Field(
        default_factory=dict,
        description="Per cloud, by its provider name: a token bucket per endpoint, shared by the worker's reconciles.",
    )
    webhook: Webhook = Webhook.model_validate({})
    workspaces: dict[str, WorkspaceSpec] = Field(description="The workspaces, by name.", min_length=1)
    encryption: EncryptionBlock | None = Field(
        None,
        description="Key providers, methods and the reconciliations target (a plan's encryption: block's shape; "
        "LABFORM_ENCRYPTION is merged over it): the reconciliations' drift, errors, reports and plans are sealed.",
    )

    @field_validator("rate_limits")
    @classmethod
    def _known_clouds(cls, value: dict[str, RateLimit]) -> dict[str, RateLimit]:
        from labform.providers import registry

        known = registry.provider_names()
        for cloud in value:
            if cloud not in known:
                raise ValueError(f"no cloud '{cloud}'{suggestion(cloud, known)}; the clouds are {', '.join(known)}")
        return value

    @field_validator("database")
    @classmethod
    def _postgres(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value


class LoadedConfig:
    """The checked config and where it was read from (paths in it are relative to its folder)."""

    def __init__(self, config: ReconcileConfig, file: Path, positions: Positions):
        self.config, self.file, self.positions = config, file, positions
        self.base = file.resolve().parent  # a reconcile runs inside its checkout: paths from here must be absolute

    def workspace(self, name: str) -> WorkspaceSpec:
        try:
            return self.config.workspaces[name]
        except KeyError:
            raise ConfigError(
                f"no workspace '{name}' in {self.file}{suggestion(name, self.config.workspaces)}"
            ) from None

    def state_of(self, name: str) -> str:
        """The workspace's state location: as written (a relative file from the config's folder), or
        the database's row for the workspace."""
        state = self.workspace(name).state
        if state is None:
            separator = "&" if "?" in self.config.database else "?"
            return f"{self.config.database}{separator}workspace={name}"
        return state if "://" in state else str(self.base / state)

    def local(self, path: Path) -> Path:
        return path if path.is_absolute() else self.base / path

    def reconciliations_target(self) -> Target | None:
        """The reconciliations encryption target this file's ``encryption:`` and LABFORM_ENCRYPTION make, if any."""
        from labform.engine.encryption.configured import encryption_config

        configured = encryption_config(self.file)
        return configured.reconciliations if configured else None


def load_config(file: Path) -> LoadedConfig:
    """The config file checked whole: every mistake at its file:line:col, all of them at once."""
    shown = _display(file)
    positions = Positions()
    document = _document(_decode(_read(file, shown), shown), shown, positions)
    if document is None:
        raise ConfigError(f"{shown} is empty: it needs database: and workspaces:")
    try:
        config = ReconcileConfig.model_validate(document)
    except ValidationError as exc:
        raise _errors(exc, positions) from None
    problems = [
        *_shared_states(config, positions, file.parent),
        *_rule_errors(config, positions),
        *_other_targets(config, positions),
    ]
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)
    return LoadedConfig(config, file, positions)


def _errors(exc: ValidationError, positions: Positions) -> ConfigError | ConfigErrors:
    errors = []
    for error in exc.errors():
        loc = _without_tag(tuple(error["loc"]))
        where = ".".join(str(p) for p in loc)
        message = plain_message(error)
        if error["type"] == "extra_forbidden":
            message = f"unknown field '{loc[-1]}'"
            where = ".".join(str(p) for p in loc[:-1])
        errors.append(ConfigError(message, positions.of(loc), where or None))
    return errors[0] if len(errors) == 1 else ConfigErrors(errors)


def _without_tag(loc: KeyPath) -> KeyPath:
    """An env source's error at its own key: pydantic names the source's tag as a key of its own."""
    if len(loc) > 4 and loc[0] == "workspaces" and loc[2] in ("env", "env_files") and loc[4] in credentials.TAGS:
        return loc[:4] + loc[5:]
    return loc


def _shared_states(config: ReconcileConfig, positions: Positions, base: Path) -> list[ConfigError]:
    """Two workspaces on one state would destroy each other's objects as orphans."""
    seen: dict[str, str] = {}
    errors = []
    for name, spec in config.workspaces.items():
        state = spec.state or f"{config.database}#workspace={name}"
        key = state if "://" in state else str((base / state).resolve())
        if key in seen:
            errors.append(
                ConfigError(
                    f"shares its state with workspace '{seen[key]}': each workspace needs a state of its own",
                    positions.of(("workspaces", name, "state")),
                    f"workspaces.{name}",
                )
            )
        seen.setdefault(key, name)
    return errors


def _other_targets(config: ReconcileConfig, positions: Positions) -> list[ConfigError]:
    """A state or plan target here would seem to encrypt the workspaces' own, which their plans decide."""
    block = config.encryption
    return [
        ConfigError(
            f"the reconcile configuration encrypts only reconciliations: a workspace's {target} follows its "
            "plan's encryption: (or LABFORM_ENCRYPTION)",
            positions.of(("encryption", target)),
            f"encryption.{target}",
        )
        for target in ("state", "plan", "history")
        if block is not None and getattr(block, target) is not None
    ]


def _rule_errors(config: ReconcileConfig, positions: Positions) -> list[ConfigError]:
    errors = []
    for name, spec in config.workspaces.items():
        path: KeyPath = ("workspaces", name, "policy", "rules")
        errors.extend(compile_rules(spec.policy.rules, positions, path))
    return errors


def workspace_env(loaded: LoadedConfig, name: str) -> dict[str, str]:
    """The workspace's own environment, read afresh: its env_files in order, then env: (which wins)."""
    spec = loaded.workspace(name)
    env: dict[str, str] = {}
    for number, lines in enumerate(spec.env_files):
        at: KeyPath = ("workspaces", name, "env_files", number)
        env.update(credentials.env_lines(lines, loaded.base, loaded.positions.of(at), _field(at)))
    for variable, source in spec.env.items():
        at = ("workspaces", name, "env", variable)
        env[variable] = credentials.value(source, loaded.base, loaded.positions.of(at), _field(at))
    return env


def _field(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)


def webhook_secret(loaded: LoadedConfig) -> bytes | None:
    """The webhook's HMAC secret, from the environment or a file (None: not configured)."""
    hook = loaded.config.webhook
    if hook.secret_env:
        value = os.environ.get(hook.secret_env)
        if not value:
            raise ConfigError(f"webhook.secret_env names {hook.secret_env}, which is not set")
        return value.encode()
    if hook.secret_file:
        try:
            return loaded.local(hook.secret_file).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read webhook.secret_file {hook.secret_file}: {exc.strerror}") from None
    return None


def json_schema() -> dict[str, Any]:
    schema = ReconcileConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "labform.reconcile.yaml"
    return schema


def write_schema(out_dir: Path) -> Path:
    from labform.engine import diskwrite

    target = out_dir / SCHEMA_FILE
    out_dir.mkdir(parents=True, exist_ok=True)
    diskwrite.replace(
        target, json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", "no schema was written", ConfigError, 0o644
    )
    return target
