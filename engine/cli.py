"""The ``labform`` command: parse flags, call the runner, print, choose the exit code.

Exit codes: 0 success (or no changes), 1 error (a mistyped flag too: never 2,
which CI reads as "changes"), 2 changes present with ``--detailed-exitcode``
(drift included), 3 ``fmt --check`` found files to format, 130/143 an apply
stopped by SIGINT/SIGTERM. Errors print as one ``Error:`` line, never a
traceback (set LABFORM_DEBUG=1 to see one).

Options are also accepted as Terraform spells them: ``-auto-approve``,
``-var x=1``, ``-parallelism=16`` (``terraform_style`` rewrites them before
click parses), and ``-no-color`` anywhere on the line.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine import collector
from engine.addresses import Address
from engine.changes import Action
from engine.errors import ConfigError, ConfigErrors, LabformError
from engine.interrupts import Interruption
from engine.options import DEFAULT_PARALLELISM, PlanOptions
from engine.secrets import SENSITIVE, RedactingFilter, redact
from engine.version import labform_version

if TYPE_CHECKING:  # each command imports what it runs, so --help and validate load only their own
    from engine import ci, runner

# Loaded on first use, so `labform --help` and `validate` pay only for what they run.

PATH_ARG = click.argument("path", required=False, default=".", type=click.Path(path_type=Path))

TARGETING_WARNING = """Warning: Resource targeting is in effect

You are creating a plan with the -target option, which means that the result of this plan may not
represent all of the changes requested by the current configuration.

The -target option is not for routine use, and is provided only for exceptional situations such as
recovering from errors or mistakes, or when labform specifically suggests to use it as part of an
error message.
"""
TARGETED_APPLY_WARNING = """Warning: Applied changes may be incomplete

The plan was created with the -target option in effect, so some changes requested in the
configuration may have been ignored and the output values may not be fully updated. Run the
following command to verify that no other changes are pending:
    labform plan
"""


def _fail(message: str) -> None:
    click.echo(click.style("Error: ", fg="red", bold=True) + redact(message), err=True)
    sys.exit(1)


def _annotate(exc: Exception) -> None:
    """On GitHub Actions, each plan-file error also as an annotation on its line (stderr:
    the runner reads workflow commands there too, and stdout may be carrying JSON)."""
    from engine import ci

    if ci.on_github():
        for line in ci.error_annotations(exc):
            click.echo(redact(line), err=True)


def handle_errors(command):
    """Turn every expected failure into 'Error: ...' and exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LabformError as exc:  # the one root: engine and provider errors alike
            _annotate(exc)
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted")
        except BrokenPipeError:  # labform show | head: the reader has all it wanted
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (held until exit, so nothing writes to the closed pipe)
            sys.exit(1)
        except Exception as exc:  # a bug: say so plainly, keep the traceback for debugging
            if os.environ.get("LABFORM_DEBUG"):
                traceback.print_exc()
            _fail(f"internal error ({type(exc).__name__}): {exc}. Set LABFORM_DEBUG=1 for details.")

    return wrapper


def _address(value: str) -> Address:
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


def workspace_options(command):
    """--state, --var and --var-file; the command gets ``variables`` as one dict."""

    @functools.wraps(command)
    def with_variables(*args, variables=(), var_files=(), **kwargs):
        return command(*args, variables=_variables(variables, var_files), **kwargs)

    with_variables = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Set plan variables from a YAML or JSON file (repeatable; --var wins).",
    )(with_variables)
    with_variables = click.option(
        "--var", "variables", multiple=True, metavar="NAME=VALUE", help="Set a plan variable."
    )(with_variables)
    return click.option(
        "--state", "state", metavar="PATH", help="State file, or postgresql://... for the PostgreSQL backend."
    )(with_variables)


def sandbox_option(command):
    return click.option("--sandbox", is_flag=True, help="Run against the built-in emulators (no account needed).")(
        command
    )


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(command)


def _duration(ctx, param, value: str) -> float:
    from providers import polling

    try:
        return polling.parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def lock_option(command):
    """Terraform's -lock-timeout, on every command that takes the state lock."""
    return click.option(
        "--lock-timeout",
        "lock_timeout",
        default="0s",
        metavar="DURATION",
        callback=_duration,
        help="Wait this long for a state lock another process holds (e.g. 30s, 5m) [default: 0s, fail at once].",
    )(command)


def _echo_event(err: bool = False):
    return lambda event: click.echo(redact(event.message), err=err)


def _workspace(
    path: Path,
    state: str | None,
    variables: dict[str, Any],
    sandbox: bool = False,
    report=None,
    lock_timeout: float = 0.0,
) -> runner.Workspace:
    from engine import runner

    return runner.Workspace(
        path=path,
        state=state,
        sandbox=sandbox,
        variables=variables,
        report=report or _echo_event(),
        lock_timeout=lock_timeout,
    )


def _color() -> bool:
    """Colour only on a terminal, and never with -no-color or NO_COLOR (https://no-color.org)."""
    ctx = click.get_current_context(silent=True)
    return sys.stdout.isatty() and not (ctx is not None and ctx.color is False)


def plan_flags(command):
    command = click.option(
        "--target", "targets", multiple=True, metavar="ADDR", help="Limit to ADDR and what it needs."
    )(command)
    command = click.option(
        "--parallelism",
        type=click.IntRange(min=1),
        default=None,
        help=f"Changes applied at once [default: {DEFAULT_PARALLELISM}].",
    )(command)
    return command


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


class TerraformStyleGroup(click.Group):
    """The top-level group: Terraform's option spelling, and usage errors exit 1 (click's 2 would
    read as "changes present" to a CI step running ``plan -detailed-exitcode || test $? -eq 2``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, terraform_style(args, long_options(self)))
        except click.UsageError as exc:
            exc.exit_code = 1
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = 1
            raise


def _print_version(ctx: click.Context, wanted: bool) -> None:
    """``--version``: the version is looked up only when asked (that costs a tenth of --help)."""
    if wanted and not ctx.resilient_parsing:
        click.echo(f"labform v{labform_version()}")
        ctx.exit()


def run() -> None:
    """The ``labform`` command, in a process of its own (``python -m engine`` too)."""
    collector.tune_for_a_short_command()
    main()


@click.group(cls=TerraformStyleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default=os.environ.get("LABFORM_LOG", "WARNING"), help="Log level (logs go to stderr).")
@click.option("--no-color", is_flag=True, help="No colours in the output (also when NO_COLOR is set).")
@click.option(
    "--version",
    "-v",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _print_version(ctx, value),
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context, log_level: str, no_color: bool) -> None:
    """labform: declarative setup of mobile device-testing clouds."""
    if no_color or os.environ.get("NO_COLOR"):
        ctx.color = False  # inherited by the command's context; click.echo then strips styles
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    logging.basicConfig(
        level=log_level.upper(), handlers=[handler], format="%(levelname)s %(name)s: %(message)s", force=True
    )


@main.command()
@json_option
def version(as_json):
    """Print labform's version."""
    if as_json:
        click.echo(
            json.dumps(
                {
                    "labform_version": labform_version(),
                    "platform": f"{sys.platform}_{platform.machine()}",
                    "python": platform.python_version(),
                },
                indent=2,
            )
        )
    else:
        click.echo(f"labform v{labform_version()}\non {sys.platform}_{platform.machine()}")


def _diagnostic(error: Exception) -> dict[str, Any]:
    """One error as a diagnostic of Terraform's ``validate -json``."""
    from engine import ci

    diagnostic: dict[str, Any] = {"severity": "error", "summary": str(error), "detail": ""}
    if isinstance(error, ConfigError):
        diagnostic["summary"] = ci.without_location(error)
        if error.location is not None:
            start = {"line": error.location.line, "column": error.location.column}
            diagnostic["range"] = {"filename": error.location.file, "start": start, "end": start}
    return diagnostic


@main.command()
@PATH_ARG
@workspace_options
@json_option
@handle_errors
def validate(path, state, variables, as_json):
    """Check the plan files without calling any cloud."""
    from engine import config, runner

    ws = _workspace(path, state, variables)
    if not as_json:
        config = runner.validate(ws)
        click.echo(f"The plan is valid: {len(config.resources)} resources, {len(config.data)} data sources.")
        return
    try:
        runner.validate(ws)
        errors: list[Exception] = []
    except ConfigErrors as exc:
        errors = list(exc.errors)
    except LabformError as exc:
        errors = [exc]
    if errors:
        _annotate(ConfigErrors(errors))
    document = {
        "format_version": "1.0",
        "valid": not errors,
        "error_count": len(errors),
        "warning_count": 0,
        "diagnostics": [_diagnostic(e) for e in errors],
    }
    click.echo(redact(json.dumps(document, indent=2)))
    sys.exit(1 if errors else 0)


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@plan_flags
@lock_option
@click.option("--out", "out", type=click.Path(path_type=Path), help="Save the plan for 'labform apply FILE'.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (drift included).")
@click.option("--replace", "replace", multiple=True, metavar="ADDR", help="Plan to replace ADDR even if unchanged.")
@click.option("--refresh-only", is_flag=True, help="Only show what changed outside labform.")
@click.option("--destroy", is_flag=True, help="Plan to destroy everything in state.")
@handle_errors
def plan(
    path,
    state,
    variables,
    sandbox,
    targets,
    parallelism,
    out,
    as_json,
    detailed_exitcode,
    replace,
    refresh_only,
    destroy,
    lock_timeout,
):
    """Show what apply would change."""
    from engine import ci, runner

    ws = _workspace(path, state, variables, sandbox, report=_echo_event(err=as_json), lock_timeout=lock_timeout)
    options = PlanOptions(
        destroy=destroy,
        refresh_only=refresh_only,
        targets=[_address(t) for t in targets],
        replace=[_address(r) for r in replace],
        parallelism=parallelism or DEFAULT_PARALLELISM,
    )
    if targets:
        click.echo(TARGETING_WARNING, err=True)
    result = runner.plan(ws, options, out)
    click.echo(result.json() if as_json else result.text(_color()))
    if out and not as_json:
        click.echo(f"\nSaved the plan to {out}. To apply exactly it: labform apply {out}")
    ci.append_step_summary(redact(ci.plan_markdown(str(path), result.plan, result.drift)))
    drifted = result.plan.has_changes or bool(result.drift)
    sys.exit(2 if detailed_exitcode and drifted else 0)


def _change_log(as_json: bool) -> ci.ChangeLog:
    """An apply's reporter: JSON lines with -json; on a pipe, heartbeats for long silent changes
    (every LABFORM_HEARTBEAT_SECONDS, default 30); on a terminal, lines as they come."""
    from engine import ci

    heartbeat = None if sys.stdout.isatty() else float(os.environ.get("LABFORM_HEARTBEAT_SECONDS", ci.HEARTBEAT))
    return ci.ChangeLog(lambda line: click.echo(redact(line)), as_json=as_json, heartbeat=heartbeat)


def _approver(auto_approve: bool, verb: str, log: ci.ChangeLog):
    """Shows the plan first (so a CI log says what was intended), then: with --auto-approve go on;
    otherwise ask for 'yes', which needs a terminal."""

    def show(result: runner.PlanResult) -> None:
        if not log.as_json:
            click.echo(result.text(_color()))
            return
        for change in result.plan.changes:
            if change.action not in (Action.NOOP, Action.READ):
                log.emit(
                    "planned_change",
                    f"{change.address}: plan to {change.action.value}",
                    str(change.address),
                    action=change.action.value,
                )

    if auto_approve:
        return lambda result: show(result) or True
    if log.as_json:
        raise LabformError(f"{verb} -json needs --auto-approve: a JSON stream cannot ask for approval")
    if not sys.stdin.isatty():
        raise LabformError(f"{verb} needs approval but standard input is not a terminal: run with --auto-approve")

    def approve(result: runner.PlanResult) -> bool:
        show(result)
        answer = click.prompt(f"\nDo you want to {verb}? Only 'yes' will be accepted", default="", show_default=False)
        return answer.strip() == "yes"

    return approve


def _incomplete_report(plan, summary: dict[str, Any]) -> None:
    """After a failed or interrupted apply: what was done, what failed and why, what was skipped
    or never started, so the next step is clear without reading the whole log."""
    from engine import ci

    outcomes = ci.change_outcomes(plan, summary)
    done: dict[str, list[str]] = {}
    for applied in outcomes:
        if applied.outcome == "done":
            done.setdefault(applied.change.action.words.past, []).append(str(applied.change.address))
    for word, addresses in done.items():
        click.echo(f"  {word + ':':11}{', '.join(addresses)}")
    if summary["recovered"]:
        click.echo(f"  Recovered: {', '.join(summary['recovered'])} (found after an interrupted apply)")
    if summary["failed"]:
        click.echo("  Failed:", err=True)
        for item in summary["failed"]:
            click.echo(f"    {item['address']}: {item['error']}", err=True)
    for applied in outcomes:
        if applied.outcome == "skipped":
            click.echo(f"  Skipped:   {applied.change.address} (because {applied.detail})")
    not_started = [str(a.change.address) for a in outcomes if a.outcome == "not started"]
    if not_started:
        click.echo(f"  Not started ({summary['interrupted']}): {', '.join(not_started)}")


def _print_outputs(outputs: dict[str, Any]) -> None:
    from engine import runner

    click.echo("\nOutputs:\n")
    for name, shown in runner.output_values(outputs).items():
        click.echo(f"{name} = {SENSITIVE if shown['sensitive'] else json.dumps(shown['value'], default=str)}")


def _ci_report(
    ws: runner.Workspace,
    where: str,
    verb: str,
    outcome: runner.ApplyOutcome,
    summary: dict[str, Any],
    log: ci.ChangeLog,
) -> None:
    """The step summary and, on GitHub, an annotation at the block of every failed change."""
    from engine import ci, runner

    addresses = [str(c.address) for c in outcome.plan.changes]
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        markdown = ci.apply_markdown(
            where, verb, outcome.plan, summary, runner.run_attributes(ws, addresses), log.elapsed
        )
        ci.append_step_summary(redact(markdown))
    if ci.on_github() and summary["failed"]:
        try:
            locations = runner.block_locations(ws)
        except LabformError:
            locations = {}
        for item in summary["failed"]:
            click.echo(
                redact(ci.annotation(f"{item['address']}: {item['error']}", locations.get(item["address"]))), err=True
            )


def _finish(
    ws: runner.Workspace,
    outcome: runner.ApplyOutcome,
    verb: str,
    started: float,
    log: ci.ChangeLog,
    stop: Interruption,
    targeted: bool,
) -> None:
    from engine import executor, runner

    if not outcome.approved:
        _fail(f"{verb} cancelled.")
    result = outcome.result or executor.ApplyResult()
    summary = result.summary()
    counts = f"{summary['added']} added, {summary['changed']} changed, {summary['destroyed']} destroyed"
    if summary["adopted"]:
        counts = f"{summary['adopted']} adopted, " + counts
    if not result.ok:
        counts += f", {len(result.failed)} failed, {len(result.skipped)} skipped"
        if result.not_started:
            counts += f", {len(result.not_started)} not started"
    headline = f"{verb.capitalize()} {'complete' if result.ok else ('interrupted' if result.interrupted else 'incomplete')}! Resources: {counts}."
    _ci_report(ws, str(ws.path), verb, outcome, summary, log)
    if log.as_json:
        log.emit("summary", headline, **summary)
        if result.outputs:
            log.emit("outputs", "Outputs", outputs=runner.output_values(result.outputs))
    elif outcome.result is None or (not outcome.plan.has_changes and result.ok):
        click.echo(runner.PlanResult(outcome.plan, outcome.drift).text(_color()))
    elif not result.ok:
        click.echo(f"\n{headline}")
        _incomplete_report(outcome.plan, summary)
    elif outcome.plan.refresh_only:
        click.echo(
            f"\n{verb.capitalize()} complete! State now records what the cloud has; no remote object was changed."
        )
    else:
        click.echo(f"\n{headline[:-1]}. ({time.monotonic() - started:.1f}s)")
        if result.outputs and verb != "destroy":  # after a destroy they name what is gone
            _print_outputs(result.outputs)
    if targeted and not log.as_json:
        click.echo("\n" + TARGETED_APPLY_WARNING, err=True)
    if result.interrupted:
        sys.exit(stop.exit_code)
    if not result.ok:
        sys.exit(1)


@main.command()
@click.argument("path_or_plan", required=False, default=".", type=click.Path(path_type=Path))
@workspace_options
@sandbox_option
@plan_flags
@lock_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking (the plan is still printed first).")
@click.option(
    "--replace", "replace", multiple=True, metavar="ADDR", help="Replace ADDR even if unchanged (re-runs a run)."
)
@click.option(
    "--refresh-only", is_flag=True, help="Only record in state what changed outside labform; change nothing remotely."
)
@click.option("--destroy", is_flag=True, help="Destroy everything in state (as 'labform destroy').")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Stream one JSON event per line, ending with a summary event (needs --auto-approve).",
)
@handle_errors
def apply(
    path_or_plan,
    state,
    variables,
    sandbox,
    targets,
    parallelism,
    auto_approve,
    replace,
    refresh_only,
    destroy,
    as_json,
    lock_timeout,
):
    """Make the cloud match the plan (PATH), or apply a saved plan FILE exactly."""
    from engine import planfile, runner

    started = time.monotonic()
    saved = path_or_plan if planfile.is_saved_plan(path_or_plan) else None
    log = _change_log(as_json)
    ws = _workspace(
        Path(".") if saved else path_or_plan, state, variables, sandbox, report=log, lock_timeout=lock_timeout
    )
    options = PlanOptions(
        destroy=destroy,
        refresh_only=refresh_only,
        targets=[_address(t) for t in targets],
        replace=[_address(r) for r in replace],
        parallelism=parallelism or (None if saved else DEFAULT_PARALLELISM),
    )
    approve = None if saved else _approver(auto_approve, "destroy" if destroy else "apply", log)
    if targets and not as_json:
        click.echo(TARGETING_WARNING, err=True)
    with Interruption() as stop, log:
        outcome = runner.apply(ws, options, saved, approve, stop=stop)
    _finish(ws, outcome, "destroy" if destroy else "apply", started, log, stop, bool(targets))


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@plan_flags
@lock_option
@click.option("--auto-approve", is_flag=True, help="Destroy without asking (the plan is still printed first).")
@handle_errors
def destroy(path, state, variables, sandbox, targets, parallelism, auto_approve, lock_timeout):
    """Delete every object labform manages for this plan, dependents first."""
    from engine import runner

    started = time.monotonic()
    log = _change_log(False)
    ws = _workspace(path, state, variables, sandbox, report=log, lock_timeout=lock_timeout)
    options = PlanOptions(
        destroy=True, targets=[_address(t) for t in targets], parallelism=parallelism or DEFAULT_PARALLELISM
    )
    approve = _approver(auto_approve, "destroy", log)
    if targets:
        click.echo(TARGETING_WARNING, err=True)
    with Interruption() as stop, log:
        outcome = runner.apply(ws, options, None, approve, stop=stop)
    _finish(ws, outcome, "destroy", started, log, stop, bool(targets))


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@lock_option
@handle_errors
def refresh(path, state, variables, sandbox, lock_timeout):
    """Record in state what the cloud has now (no remote changes)."""
    from engine import runner

    result = runner.refresh(_workspace(path, state, variables, sandbox, lock_timeout=lock_timeout))
    click.echo(result.text(_color()))


@main.command("import")
@click.argument("address")
@click.argument("remote_id")
@PATH_ARG
@workspace_options
@sandbox_option
@lock_option
@handle_errors
def import_(address, remote_id, path, state, variables, sandbox, lock_timeout):
    """Adopt an existing remote object as ADDRESS."""
    from engine import runner

    item = runner.import_resource(
        _workspace(path, state, variables, sandbox, lock_timeout=lock_timeout), _address(address), remote_id
    )
    click.echo(f"Imported {address} (id {item.id}). Run 'labform plan' to see any differences with the plan.")


def _resource_lines(address: str, item) -> list[str]:
    """One resource of state as ``show`` and ``state show`` print it; secrets as (sensitive)."""
    from providers import registry

    rtype = registry.resource_type(item.type)
    sensitive = rtype.Args.fields_with("sensitive") if rtype else frozenset()
    lines = [f"# {address} (id {item.id})"]
    width = max((len(k) for k in item.attributes), default=0)
    for key, value in sorted(item.attributes.items()):
        shown = SENSITIVE if key in sensitive else json.dumps(value, default=str)
        lines.append(f"  {key.ljust(width)} = {shown}")
    return lines


@main.command()
@click.argument("file", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--state", "state", metavar="PATH", help="Show this state (a file, or postgresql://...).")
@json_option
@handle_errors
def show(file, state, as_json):
    """Show a saved plan (FILE from plan -out), or the state of a plan (FILE a plan folder or file)."""
    from engine import planfile, runner

    if planfile.is_saved_plan(file):
        result = runner.show_saved_plan(file)
        click.echo(result.json() if as_json else result.text(_color()))
        return
    if file.suffix == ".json" and not state:  # a state file given directly
        file, state = Path("."), str(file)
    current = runner.read_state(_workspace(file, state, {}))
    if as_json:
        click.echo(redact(json.dumps(runner.state_values(current), indent=2, sort_keys=True, default=str)))
        return
    if not current.resources:
        click.echo("The state is empty.")
    for address, item in sorted(current.resources.items()):
        click.echo("\n".join(_resource_lines(address, item)) + "\n")
    if current.outputs:
        _print_outputs(current.outputs)


@main.group()
def state():
    """Inspect and edit state."""


@state.command("list")
@PATH_ARG
@workspace_options
@handle_errors
def state_list(path, state, variables):
    from engine import runner

    for address in sorted(runner.read_state(_workspace(path, state, variables)).resources):
        click.echo(address)


@state.command("show")
@click.argument("address")
@PATH_ARG
@workspace_options
@handle_errors
def state_show(address, path, state, variables):
    from engine import runner

    current = runner.read_state(_workspace(path, state, variables))
    item = current.resources.get(str(_address(address)))
    if item is None:
        raise LabformError(f"{address} is not in state")
    click.echo("\n".join(_resource_lines(address, item)))


@state.command("rm")
@click.argument("address")
@PATH_ARG
@workspace_options
@lock_option
@handle_errors
def state_rm(address, path, state, variables, lock_timeout):
    """Forget an object without deleting it remotely."""
    from engine import runner

    for removed in runner.state_rm(_workspace(path, state, variables, lock_timeout=lock_timeout), [_address(address)]):
        click.echo(f"Removed {removed} from state (the remote object is untouched).")


@state.command("mv")
@click.argument("source")
@click.argument("target")
@PATH_ARG
@workspace_options
@lock_option
@handle_errors
def state_mv(source, target, path, state, variables, lock_timeout):
    """Rename an address in state (after renaming it in the plan)."""
    from engine import runner

    runner.state_mv(_workspace(path, state, variables, lock_timeout=lock_timeout), _address(source), _address(target))
    click.echo(f"Moved {source} to {target}.")


def _raw(name: str, value: Any) -> str:
    """Terraform's ``output -raw``: a string, number or bool as is, for shell scripts."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    raise LabformError(f"output '{name}' is a {type(value).__name__}, which -raw cannot print: use -json")


@main.command()
@click.argument("name_or_path", required=False)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@workspace_options
@json_option
@click.option("--raw", is_flag=True, help="Print one output's value as is (no quotes), for scripts.")
@handle_errors
def output(name_or_path, path, state, variables, as_json, raw):
    """Print the outputs of the last apply, or one: output [NAME] [PATH] (a lone argument that
    exists on disk is the PATH)."""
    from engine import config, runner

    name = name_or_path
    if path is None and name_or_path is not None and Path(name_or_path).exists():
        name, path = None, Path(name_or_path)
    values = runner.output_values(runner.read_state(_workspace(path or Path("."), state, variables)).outputs)
    if name is None:
        if raw:
            raise LabformError("-raw prints one output: name it (labform output -raw NAME)")
        if as_json:
            click.echo(json.dumps(values, indent=2, sort_keys=True, default=str))
            return
        if not values:
            click.echo("No outputs found: apply the plan first, or check that it declares outputs.", err=True)
        for output_name, shown in values.items():
            click.echo(
                f"{output_name} = {SENSITIVE if shown['sensitive'] else json.dumps(shown['value'], default=str)}"
            )
        return
    if name not in values:
        raise LabformError(f"output '{name}' not found{config.suggestion(name, values)}")
    shown = values[name]
    if raw:
        click.echo(_raw(name, shown["value"]), nl=False)
    elif as_json:
        click.echo(json.dumps(shown["value"], indent=2, default=str))
    else:
        click.echo(SENSITIVE if shown["sensitive"] else json.dumps(shown["value"], default=str))


@main.command()
@PATH_ARG
@workspace_options
@handle_errors
def graph(path, state, variables):
    """Print the dependency graph as DOT (pipe into 'dot -Tpng')."""
    from engine import runner

    click.echo(runner.graph_dot(_workspace(path, state, variables)), nl=False)


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; exit 3 if a file needs formatting (for CI).")
@handle_errors
def fmt(path, check):
    """Rewrite plan files in the canonical layout, keeping comments; print the files it changed."""
    from engine.fmt import format_files

    changed = format_files(path, check)
    for file in changed:
        click.echo(str(file))
    if check and changed:
        sys.exit(3)


@main.command("force-unlock")
@PATH_ARG
@workspace_options
@handle_errors
def force_unlock(path, state, variables):
    """Remove a state lock left behind by a crashed labform."""
    from engine import runner

    holder = runner.force_unlock(_workspace(path, state, variables))
    if holder is None:
        click.echo("State is not locked.")
    else:
        click.echo(
            f"Removed the lock held by pid {holder.get('pid')} on {holder.get('host')} since {holder.get('time')}."
        )


@main.command("schema")
@click.option("--out-dir", default="schemas", type=click.Path(path_type=Path), show_default=True)
@handle_errors
def schema_(out_dir):
    """Write the JSON Schema of plan files (for editor completion)."""
    from engine import schema

    written = schema.write_schema(out_dir)
    click.echo(f"Wrote {written}")


def _emulated_clouds(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    from providers import registry

    unknown = sorted(set(values) - set(registry.emulator_names()))
    if unknown:
        raise click.BadParameter(
            f"no emulator for {', '.join(unknown)} (emulated: {', '.join(registry.emulator_names())})"
        )
    return values


def _cloud_variants(ctx, param, pairs: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for pair in pairs:
        cloud, sep, name = pair.partition("=")
        if not (sep and cloud and name):
            raise click.BadParameter(f"'{pair}' is not CLOUD=NAME")
        chosen[cloud] = name
    return chosen


@main.command()
@click.option("--port-base", type=int, default=None, help="First port (default: free ports).")
@click.option(
    "--data",
    "--data-dir",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Keep the emulators' objects here, across restarts.",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="CLOUD",
    callback=_emulated_clouds,
    help="Serve only this cloud (repeatable).",
)
@click.option(
    "--failure-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests that fail: refused (429, 500) or dropped before the cloud acts, "
    "or answered with a 500, a dropped connection or a malformed 200 after it acted [default: 0].",
)
@click.option(
    "--latency",
    default="0s",
    metavar="DURATION",
    callback=_duration,
    help="Delay every answer, e.g. 50ms [default: 0s].",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the faults and the simulated results: the same seed replays the same faults.",
)
@click.option(
    "--job-seconds",
    default=None,
    metavar="DURATION",
    callback=lambda ctx, param, value: None if value is None else _duration(ctx, param, value),
    help="How long a run or other async job takes [default: LABFORM_SANDBOX_JOB_SECONDS, else 4s].",
)
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="CLOUD=NAME",
    callback=_cloud_variants,
    help="Serve CLOUD's emulator with one of its doc variants (providers/CLOUD/emulator/variants.py; repeatable).",
)
@handle_errors
def sandbox(port_base, data_dir, only, failure_rate, latency, seed, job_seconds, variants):
    """Serve every cloud's emulator on loopback until interrupted.

    With --failure-rate, --latency and --seed it is a flaky cloud to rehearse
    your own plans against; point a plan's provider at the printed URL and settings.
    """
    from contextlib import ExitStack

    from engine.sandbox import start_sandbox
    from providers import registry

    tuning = {
        "failure_rate": failure_rate,
        "latency": latency,
        "seed": seed,
        "job_seconds": job_seconds,
        "variants": variants,
    }
    with ExitStack() as serving:
        try:
            running = serving.enter_context(
                start_sandbox(
                    only or registry.emulator_names(),
                    data_dir,
                    port_base,
                    {k: v for k, v in tuning.items() if v is not None},
                )
            )
        except ValueError as exc:  # a variant the emulator lacks, or one for a cloud not served
            raise LabformError(str(exc)) from None
        for cloud, settings in running.settings().items():
            click.echo(f"{cloud:10} {running.servers[cloud].url}  settings: {json.dumps(settings)}")
        click.echo(f"Serving with {running.describe()}; press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("Stopped.")
