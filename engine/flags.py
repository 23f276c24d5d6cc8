"""The flags labform's commands share, and Terraform's spelling of them.

``workspace_options`` (--state, --var, --var-file), ``plan_options`` (--target,
--parallelism…), ``lock_option`` (--lock-timeout, --lock), ``input_option`` and
``approval_input_option`` (-input: ignored with a note, or "do not ask" on apply),
``compact_warnings_option``, ``sandbox_option`` (--sandbox and the emulators'
knobs, ``sandbox_tuning_options``) and ``json_option`` decorate click commands;
``TerraformStyleGroup`` lets ``-auto-approve``, ``-var x=1``, ``-parallelism=16``
and ``-auto-approve=true`` through as Terraform users type them, answers a
mistyped ``-sandbx`` with "did you mean" in the spelling it was typed in, and
makes a usage error exit 1 (never 2, which CI reads as "changes present").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from labform.engine.addresses import Address, ModuleAddress, parse_target
from labform.engine.options import DEFAULT_PARALLELISM, PlanOptions

Command = TypeVar("Command", bound=Callable[..., Any])

PATH_ARG = click.argument("path", required=False, default=".", type=click.Path(path_type=Path))


def parse_address(value: str) -> Address:
    try:
        return Address.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def parse_target_address(value: str) -> Address | ModuleAddress:
    """-target's address: an object, a block, or a module call or instance (all that it holds)."""
    try:
        return parse_target(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}, or module.NAME") from None


def _var_file(path: Path) -> dict[str, Any]:
    """A -var-file: a YAML (or JSON, which YAML reads too) mapping of variable names to values."""
    try:
        from ruamel.yaml import YAML, YAMLError  # only a -var-file needs it

        values = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--var-file") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise click.BadParameter(f"{path} must hold a mapping of variable names to values", param_hint="--var-file")
    return values


def _variables(pairs: tuple[str, ...], files: tuple[Path, ...]) -> dict[str, Any]:
    """The variables set on the command line: the -var-file files in order, then each --var (which wins)."""
    result: dict[str, Any] = {}
    for path in files:
        result.update(_var_file(path))
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--var")
        result[key] = value
    return result


def workspace_options(command: Command) -> Command:
    """--state, --var and --var-file; the command gets ``variables`` as one dict."""

    @functools.wraps(command)
    def with_variables(
        *args: Any, variables: tuple[str, ...] = (), var_files: tuple[Path, ...] = (), **kwargs: Any
    ) -> Any:
        return command(*args, variables=_variables(variables, var_files), **kwargs)

    decorated = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Set plan variables from a YAML or JSON file (repeatable; --var wins).",
    )(with_variables)
    decorated = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Set a plan variable.")(
        decorated
    )
    return click.option(
        "--state", "state", metavar="PATH", help="State file, or postgresql://... for the PostgreSQL backend."
    )(decorated)  # type: ignore[return-value]  # click's decorators return the same callable, typed loosely


def _note(message: str) -> None:
    """A note on stderr: stdout may be carrying JSON."""
    click.echo(f"Note: {message}", err=True)


def note_input_ignored() -> None:
    """Said where -input changes nothing: labform has no variable prompts to turn off."""
    _note("-input has no effect here: labform never prompts for variables (give them with -var or -var-file)")


def _ignored_input(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    if value is not None and not ctx.resilient_parsing:
        note_input_ignored()


def input_option(command: Command) -> Command:
    """Terraform's -input=false, which CI pipelines pass, on a command that never asks anything:
    accepted, and a note says it changes nothing."""
    return click.option(
        "--input",
        type=click.BOOL,
        default=None,
        metavar="BOOL",
        expose_value=False,
        callback=_ignored_input,
        help="Accepted for Terraform's -input=false and ignored: this command never asks anything.",
    )(command)


def approval_input_option(command: Command) -> Command:
    """-input on apply and destroy, the commands that ask for approval: ``-input=false`` means "do not
    ask" (without -auto-approve the command refuses instead of prompting, on a terminal too). The
    command gets ``input_enabled``: None when -input was not given."""
    return click.option(
        "--input",
        "input_enabled",
        type=click.BOOL,
        default=None,
        metavar="BOOL",
        help="-input=false: never ask for approval; without -auto-approve, refuse (exit 1) instead of prompting.",
    )(command)


def compact_warnings_option(command: Command) -> Command:
    return click.option(
        "--compact-warnings", is_flag=True, help="Print each warning as its one summary line, as Terraform's."
    )(command)


# --- the sandbox's knobs ------------------------------------------------------
def _kinds(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(kind.strip() for kind in value.split(","))


def _optional_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    return None if value is None else duration(ctx, param, value)


# Each knob: its option name, what the command gets (a field of labform.providers.emulation.sandbox.Tuning), its click settings.
_TUNING: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "--failure-rate",
        "failure_rate",
        {
            "type": click.FloatRange(0, 1),
            "help": "Share of requests that fail: refused (429, 500) or dropped before the cloud acts, "
            "or answered with a 500, a dropped connection or a malformed 200 after it acted [default: 0].",
        },
    ),
    (
        "--failure-kinds",
        "failure_kinds",
        {
            "metavar": "KIND,...",
            "callback": _kinds,
            "help": "The faults --failure-rate draws from (providers/emulation/options.py), e.g. slow-body,huge-body "
            "[default: every recoverable kind].",
        },
    ),
    (
        "--latency",
        "latency",
        {"metavar": "DURATION", "callback": _optional_duration, "help": "Delay every answer, e.g. 50ms [default: 0s]."},
    ),
    (
        "--seed",
        "seed",
        {
            "type": int,
            "help": "Seed of the faults and the simulated results: the same seed replays the same faults and results.",
        },
    ),
    (
        "--job-seconds",
        "job_seconds",
        {
            "metavar": "DURATION",
            "callback": _optional_duration,
            "help": "How long a run or other async job takes [default: LABFORM_SANDBOX_JOB_SECONDS, else 4s].",
        },
    ),
    (
        "--test-failure-share",
        "test_failure_share",
        {
            "type": click.FloatRange(0, 1),
            "help": "Share of the simulated tests (or devices, where a cloud reports per device) that fail, chosen by "
            "--seed [default: LABFORM_SANDBOX_FAILURE_SHARE, else 0].",
        },
    ),
    (
        "--flaky-rate",
        "flaky_rate",
        {
            "type": click.FloatRange(0, 1),
            "help": "Share of the simulated tests that are flaky, chosen by --seed: each attempt of one fails with "
            "probability 0.3, so a retry may pass it [default: 0].",
        },
    ),
)
# What the command gets for the knobs: only those given, keyed as labform.providers.emulation.sandbox.Tuning names them.
SandboxTuning = dict[str, Any]


def sandbox_tuning_options(command: Command) -> Command:
    """The emulators' fault and outcome knobs; the command gets the ones given as ``tuning``."""

    @functools.wraps(command)
    def with_tuning(*args: Any, **kwargs: Any) -> Any:
        given = {field: kwargs.pop(field) for _, field, _ in _TUNING}
        return command(*args, tuning={k: v for k, v in given.items() if v is not None}, **kwargs)

    decorated: Any = with_tuning
    for option, field, settings in reversed(_TUNING):
        decorated = click.option(option, field, default=None, **settings)(decorated)
    return decorated  # type: ignore[no-any-return]  # click's decorators keep the callable, typed loosely


def sandbox_option(command: Command) -> Command:
    """--sandbox and the knobs of its emulators; the command gets ``sandbox``: None without --sandbox,
    else the knobs given (a knob without --sandbox is a usage error: there is nothing for it to tune)."""

    @functools.wraps(command)
    def with_sandbox(*args: Any, sandbox: bool = False, tuning: SandboxTuning, **kwargs: Any) -> Any:
        if tuning and not sandbox:
            names = [option for option, field, _ in _TUNING if field in tuning]
            verb = "tunes" if len(names) == 1 else "tune"
            raise click.UsageError(f"{', '.join(names)} {verb} the built-in emulators: add --sandbox")
        return command(*args, sandbox=tuning if sandbox else None, **kwargs)

    decorated = sandbox_tuning_options(with_sandbox)
    return click.option("--sandbox", is_flag=True, help="Run against the built-in emulators (no account needed).")(
        decorated
    )  # type: ignore[return-value]  # click's decorators keep the callable, typed loosely


def json_option(command: Command) -> Command:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(command)


def duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A click callback: ``30s``, ``5m`` or a number of seconds."""
    from labform.providers import polling

    try:
        return polling.parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _lock_kept(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    if value is False and not ctx.resilient_parsing:
        _note(
            "-lock=false has no effect: labform always holds the state lock while it works, "
            "and a crashed holder's lock frees itself"
        )


def lock_option(command: Command) -> Command:
    """Terraform's -lock-timeout, on every command that takes the state lock, and its -lock=false
    (accepted with a note: the lock cannot be stranded, so there is no reason to go without it)."""
    decorated = click.option(
        "--lock",
        type=click.BOOL,
        default=None,
        metavar="BOOL",
        expose_value=False,
        callback=_lock_kept,
        help="Accepted for Terraform's -lock=false and ignored: the state lock is always held.",
    )(command)
    return click.option(
        "--lock-timeout",
        "lock_timeout",
        default="0s",
        metavar="DURATION",
        callback=duration,
        help="Wait this long for a state lock another process holds (e.g. 30s, 5m) [default: 0s, fail at once].",
    )(decorated)


def plan_options(*, changes: bool = True) -> Callable[[Command], Command]:
    """--target and --parallelism and, with ``changes``, --replace, --refresh-only, --refresh and
    --destroy: the command gets them as one ``options: PlanOptions``."""

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def with_options(
            *args: Any,
            targets: tuple[str, ...] = (),
            parallelism: int | None = None,
            replace: tuple[str, ...] = (),
            refresh_only: bool = False,
            refresh: bool = True,
            destroy: bool = False,
            **kwargs: Any,
        ) -> Any:
            if refresh_only and not refresh:
                raise click.UsageError("-refresh=false and -refresh-only cannot be combined: the one only refreshes")
            options = PlanOptions(
                refresh=refresh,
                destroy=destroy,
                refresh_only=refresh_only,
                targets=[parse_target_address(t) for t in targets],
                replace=[parse_address(r) for r in replace],
                parallelism=parallelism,
            )
            return command(*args, options=options, **kwargs)

        decorated = click.option(
            "--target", "targets", multiple=True, metavar="ADDR", help="Limit to ADDR and what it needs."
        )(with_options)
        decorated = click.option(
            "--parallelism",
            type=click.IntRange(min=1),
            default=None,
            help=f"Changes applied at once [default: {DEFAULT_PARALLELISM}].",
        )(decorated)
        if changes:
            decorated = click.option(
                "--replace",
                "replace",
                multiple=True,
                metavar="ADDR",
                help="Replace ADDR even if unchanged (a run runs again).",
            )(decorated)
            decorated = click.option(
                "--refresh-only",
                is_flag=True,
                help="Only read what changed outside labform: plan shows it, apply records it; nothing remote changes.",
            )(decorated)
            decorated = click.option(
                "--refresh",
                type=click.BOOL,
                default=True,
                metavar="BOOL",
                help="-refresh=false: read no object from the cloud; plan against state as recorded "
                "(checks show their last verdict) [default: true].",
            )(decorated)
            decorated = click.option(
                "--destroy", is_flag=True, help="Destroy everything in state, as 'labform destroy' (plan: show that)."
            )(decorated)
        return decorated  # type: ignore[return-value]  # click's decorators keep the callable, typed loosely

    return decorate


# --- Terraform's spelling of options ---------------------------------------
# Where the names typed with one dash are kept for the command's error message (click's context meta).
_SINGLE_DASH = "labform.single_dash"


def long_options(command: click.Command) -> dict[str, bool]:
    """Every ``--name`` option of the command tree, and whether it takes a value."""
    found: dict[str, bool] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                if opt.startswith("--"):
                    found[opt[2:]] = not (param.is_flag or param.count)
    for sub in getattr(command, "commands", {}).values():
        found.update(long_options(sub))
    return found


def _as_flag(arg: str, value: str) -> list[str]:
    """``--flag=VALUE`` for a flag (Go's ``-auto-approve=true``): the flag, nothing, or as written
    (click then says it takes no value) when VALUE is no boolean."""
    try:
        on = click.BOOL.convert(value, None, None)
    except click.BadParameter:
        return [arg]
    return [arg.partition("=")[0]] if on else []


def terraform_style(args: list[str], known: dict[str, bool], single_dash: set[str] | None = None) -> list[str]:
    """Terraform's single-dash long options as click's: ``-auto-approve`` → ``--auto-approve``,
    ``-parallelism=16`` → ``--parallelism=16``, ``-auto-approve=true`` → ``--auto-approve`` (``=false``:
    left out). Any other ``-name`` of more than one letter becomes ``--name`` too, so a typo gets
    click's "did you mean"; each name so rewritten goes into ``single_dash``, for an error message to
    use the spelling typed. Values of options and everything after ``--`` stay as written; ``-no-color`` moves to the
    front, where the top-level option reads it, so it works after the command name too."""
    result: list[str] = []
    value_next = False
    for index, arg in enumerate(args):
        if arg == "--":
            result.extend(args[index:])
            break
        if value_next:
            result.append(arg)
            value_next = False
            continue
        name, inline, value = arg.lstrip("-").partition("=")
        if arg.startswith("-") and not arg.startswith("--") and len(name) > 1:
            arg = "-" + arg
            if single_dash is not None:
                single_dash.add("--" + name)
        if arg.startswith("--") and name in known:
            if not known[name] and inline:
                result.extend(_as_flag(arg, value))
                continue
            value_next = known[name] and not inline
        result.append(arg)
    end = result.index("--") if "--" in result else len(result)
    colourless = [a for a in result[:end] if a == "--no-color"]
    return colourless[:1] + [a for a in result[:end] if a != "--no-color"] + result[end:]


def _exit_1(exc: click.UsageError) -> None:
    """A usage error exits 1 instead of click's 2 (click types exit_code as the class's own)."""
    setattr(exc, "exit_code", 1)  # noqa: B010 (an instance attribute click's stubs call a class variable)


def _as_typed(exc: click.UsageError, ctx: click.Context) -> click.UsageError:
    """An unknown option named (with its "did you mean") as it was typed, one dash or two; one of
    the top-level options given after the command says where it goes."""
    if not isinstance(exc, click.NoSuchOption):
        return exc
    dash = "-" if exc.option_name in ctx.meta.get(_SINGLE_DASH, set()) else "--"
    name = exc.option_name.lstrip("-")
    top_level = {opt.lstrip("-") for param in ctx.command.params for opt in getattr(param, "opts", ())}
    if name in top_level and exc.ctx is not None and exc.ctx is not ctx:
        return click.UsageError(
            f"{dash}{name} goes before the command, as in Terraform: labform {dash}{name}=... {exc.ctx.info_name} ...",
            exc.ctx,
        )
    if dash == "--":
        return exc
    return click.NoSuchOption(dash + name, possibilities=[p[1:] for p in exc.possibilities or ()], ctx=exc.ctx)


class TerraformStyleGroup(click.Group):
    """The top-level group: Terraform's option spelling, and usage errors exit 1 (click's 2 would
    read as "changes present" to a CI step running ``plan -detailed-exitcode || test $? -eq 2``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        typed: set[str] = ctx.meta.setdefault(_SINGLE_DASH, set())
        try:
            return super().parse_args(ctx, terraform_style(args, long_options(self), typed))
        except click.UsageError as exc:
            shown = _as_typed(exc, ctx)
            _exit_1(shown)
            raise shown from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            shown = _as_typed(exc, ctx)
            _exit_1(shown)
            if shown is exc:
                raise
            raise shown from None
