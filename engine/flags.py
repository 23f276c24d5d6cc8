"""The flags labform's commands share, and Terraform's spelling of them.

``workspace_options`` (--state, --var, --var-file), ``plan_flags`` (--target,
--parallelism), ``lock_option`` (--lock-timeout), ``sandbox_option`` and
``json_option`` decorate click commands; ``TerraformStyleGroup`` lets
``-auto-approve``, ``-var x=1`` and ``-parallelism=16`` through as Terraform
users type them, and makes a usage error exit 1 (never 2, which CI reads as
"changes present").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.addresses import Address
from engine.options import DEFAULT_PARALLELISM, PlanOptions

Command = TypeVar("Command", bound=Callable[..., Any])

PATH_ARG = click.argument("path", required=False, default=".", type=click.Path(path_type=Path))


def parse_address(value: str) -> Address:
    try:
        return Address.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


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


def sandbox_option(command: Command) -> Command:
    return click.option("--sandbox", is_flag=True, help="Run against the built-in emulators (no account needed).")(
        command
    )


def json_option(command: Command) -> Command:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(command)


def duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A click callback: ``30s``, ``5m`` or a number of seconds."""
    from providers import polling

    try:
        return polling.parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def lock_option(command: Command) -> Command:
    """Terraform's -lock-timeout, on every command that takes the state lock."""
    return click.option(
        "--lock-timeout",
        "lock_timeout",
        default="0s",
        metavar="DURATION",
        callback=duration,
        help="Wait this long for a state lock another process holds (e.g. 30s, 5m) [default: 0s, fail at once].",
    )(command)


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
                targets=[parse_address(t) for t in targets],
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


def terraform_style(args: list[str], known: dict[str, bool]) -> list[str]:
    """Terraform's single-dash long options as click's: ``-auto-approve`` → ``--auto-approve``,
    ``-parallelism=16`` → ``--parallelism=16``, for the long options labform has. Values of
    options and everything after ``--`` stay as written; ``-no-color`` moves to the front,
    where the top-level option reads it, so it works after the command name too."""
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
        name, inline, _ = arg.lstrip("-").partition("=")
        if arg.startswith("-") and not arg.startswith("--") and name in known:
            arg = "-" + arg
        if arg.startswith("--") and name in known:
            value_next = known[name] and not inline
        result.append(arg)
    end = result.index("--") if "--" in result else len(result)
    colourless = [a for a in result[:end] if a == "--no-color"]
    return colourless[:1] + [a for a in result[:end] if a != "--no-color"] + result[end:]


def _exit_1(exc: click.UsageError) -> None:
    """A usage error exits 1 instead of click's 2 (click types exit_code as the class's own)."""
    setattr(exc, "exit_code", 1)  # noqa: B010 (an instance attribute click's stubs call a class variable)


class TerraformStyleGroup(click.Group):
    """The top-level group: Terraform's option spelling, and usage errors exit 1 (click's 2 would
    read as "changes present" to a CI step running ``plan -detailed-exitcode || test $? -eq 2``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, terraform_style(args, long_options(self)))
        except click.UsageError as exc:
            _exit_1(exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _exit_1(exc)
            raise
