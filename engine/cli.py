"""The ``labform`` command: parse flags, call the runner, print, choose the exit code.

Exit codes: 0 success (or no changes), 1 error, 2 changes present with
``--detailed-exitcode`` (drift included). Errors print as one ``Error:``
line, never a traceback (set LABFORM_DEBUG=1 to see one).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

import click

from engine import planfile, runner, schema
from engine.addresses import Address
from engine.errors import LabformError
from engine.options import DEFAULT_PARALLELISM, PlanOptions
from engine.secrets import SENSITIVE, RedactingFilter, redact
from providers import registry
from providers.errors import ProviderError
from providers.polling import parse_duration

PATH_ARG = click.argument("path", required=False, default=".", type=click.Path(path_type=Path))


def _fail(message: str) -> None:
    click.echo(click.style("Error: ", fg="red", bold=True) + redact(message), err=True)
    sys.exit(1)


def handle_errors(command):
    """Turn every expected failure into 'Error: ...' and exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (LabformError, ProviderError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted")
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


def _variables(pairs: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--var")
        result[key] = value
    return result


def workspace_options(command):
    command = click.option("--state", "state", metavar="PATH", help="State file, or postgresql://... for the PostgreSQL backend.")(command)
    command = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Set a plan variable.")(command)
    return command


def sandbox_option(command):
    return click.option("--sandbox", is_flag=True, help="Run against the built-in emulators (no account needed).")(command)


def _duration(ctx, param, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def lock_option(command):
    """Terraform's -lock-timeout, on every command that takes the state lock."""
    return click.option(
        "-lock-timeout", "--lock-timeout", "lock_timeout", default="0s", metavar="DURATION", callback=_duration,
        help="Wait this long for a state lock another process holds (e.g. 30s, 5m) [default: 0s, fail at once].",
    )(command)


def _workspace(path: Path, state: str | None, variables: tuple[str, ...], sandbox: bool = False, quiet: bool = False, lock_timeout: float = 0.0) -> runner.Workspace:
    report = (lambda event: click.echo(redact(event.message), err=True)) if quiet else (lambda event: click.echo(redact(event.message)))
    return runner.Workspace(path=path, state=state, sandbox=sandbox, variables=_variables(variables), report=report, lock_timeout=lock_timeout)


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def plan_flags(command):
    command = click.option("--target", "targets", multiple=True, metavar="ADDR", help="Limit to ADDR and what it needs.")(command)
    command = click.option("--parallelism", type=click.IntRange(min=1), default=None, help=f"Changes applied at once [default: {DEFAULT_PARALLELISM}].")(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default=os.environ.get("LABFORM_LOG", "WARNING"), help="Log level (logs go to stderr).")
def main(log_level: str) -> None:
    """labform: declarative setup of mobile device-testing clouds."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=log_level.upper(), handlers=[handler], format="%(levelname)s %(name)s: %(message)s", force=True)


@main.command()
@PATH_ARG
@workspace_options
@handle_errors
def validate(path, state, variables):
    """Check the plan files without calling any cloud."""
    config = runner.validate(_workspace(path, state, variables))
    click.echo(f"The plan is valid: {len(config.resources)} resources, {len(config.data)} data sources.")


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@plan_flags
@lock_option
@click.option("-out", "--out", "out", type=click.Path(path_type=Path), help="Save the plan for 'labform apply FILE'.")
@click.option("-json", "--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (drift included).")
@click.option("--replace", "replace", multiple=True, metavar="ADDR", help="Plan to replace ADDR even if unchanged.")
@click.option("--refresh-only", is_flag=True, help="Only show what changed outside labform.")
@click.option("--destroy", is_flag=True, help="Plan to destroy everything in state.")
@handle_errors
def plan(path, state, variables, sandbox, targets, parallelism, out, as_json, detailed_exitcode, replace, refresh_only, destroy, lock_timeout):
    """Show what apply would change."""
    ws = _workspace(path, state, variables, sandbox, quiet=as_json, lock_timeout=lock_timeout)
    options = PlanOptions(
        destroy=destroy,
        refresh_only=refresh_only,
        targets=[_address(t) for t in targets],
        replace=[_address(r) for r in replace],
        parallelism=parallelism or DEFAULT_PARALLELISM,
    )
    result = runner.plan(ws, options, out)
    click.echo(result.json() if as_json else result.text(_color()))
    if out and not as_json:
        click.echo(f"\nSaved the plan to {out}. To apply exactly it: labform apply {out}")
    drifted = result.plan.has_changes or bool(result.drift)
    sys.exit(2 if detailed_exitcode and drifted else 0)


def _approver(auto_approve: bool, verb: str):
    """None (no question) with --auto-approve; otherwise a prompt that needs a terminal."""
    if auto_approve:
        return None
    if not sys.stdin.isatty():
        raise LabformError(f"{verb} needs approval but standard input is not a terminal: run with --auto-approve")

    def approve(result: runner.PlanResult) -> bool:
        click.echo(result.text(_color()))
        answer = click.prompt(f"\nDo you want to {verb}? Only 'yes' will be accepted", default="", show_default=False)
        return answer.strip() == "yes"

    return approve


def _finish(outcome: runner.ApplyOutcome, verb: str, started: float) -> None:
    if not outcome.approved:
        _fail(f"{verb} cancelled.")
    if outcome.result is None or (not outcome.plan.has_changes and outcome.result.ok and not outcome.plan.refresh_only):
        click.echo(runner.PlanResult(outcome.plan, outcome.drift).text(_color()))
        return
    result = outcome.result
    adopted = f"{result.adopted} adopted, " if result.adopted else ""
    summary = f"{adopted}{result.added} added, {result.changed} changed, {result.destroyed} destroyed"
    if result.failed or result.skipped:
        summary += f", {len(result.failed)} failed, {len(result.skipped)} skipped"
        click.echo(f"\n{verb.capitalize()} incomplete! Resources: {summary}.")
        for address, message in result.failed:
            click.echo(f"  {address}: {message}", err=True)
        sys.exit(1)
    click.echo(f"\n{verb.capitalize()} complete! Resources: {summary}. ({time.monotonic() - started:.1f}s)")
    if result.outputs:
        click.echo("\nOutputs:\n")
        for name, value in sorted(result.outputs.items()):
            click.echo(f"{name} = {json.dumps(value, default=str)}")


@main.command()
@click.argument("path_or_plan", required=False, default=".", type=click.Path(path_type=Path))
@workspace_options
@sandbox_option
@plan_flags
@lock_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--replace", "replace", multiple=True, metavar="ADDR")
@handle_errors
def apply(path_or_plan, state, variables, sandbox, targets, parallelism, auto_approve, replace, lock_timeout):
    """Make the cloud match the plan (PATH), or apply a saved plan FILE exactly."""
    started = time.monotonic()
    saved = path_or_plan if planfile.is_saved_plan(path_or_plan) else None
    ws = _workspace(Path(".") if saved else path_or_plan, state, variables, sandbox, lock_timeout=lock_timeout)
    options = PlanOptions(
        targets=[_address(t) for t in targets],
        replace=[_address(r) for r in replace],
        parallelism=parallelism or (None if saved else DEFAULT_PARALLELISM),
    )
    approve = None if saved else _approver(auto_approve, "apply")
    _finish(runner.apply(ws, options, saved, approve), "apply", started)


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@plan_flags
@lock_option
@click.option("--auto-approve", is_flag=True, help="Destroy without asking.")
@handle_errors
def destroy(path, state, variables, sandbox, targets, parallelism, auto_approve, lock_timeout):
    """Delete every object labform manages for this plan, dependents first."""
    started = time.monotonic()
    ws = _workspace(path, state, variables, sandbox, lock_timeout=lock_timeout)
    options = PlanOptions(destroy=True, targets=[_address(t) for t in targets], parallelism=parallelism or DEFAULT_PARALLELISM)
    _finish(runner.apply(ws, options, None, _approver(auto_approve, "destroy")), "destroy", started)


@main.command()
@PATH_ARG
@workspace_options
@sandbox_option
@lock_option
@handle_errors
def refresh(path, state, variables, sandbox, lock_timeout):
    """Record in state what the cloud has now (no remote changes)."""
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
    item = runner.import_resource(_workspace(path, state, variables, sandbox, lock_timeout=lock_timeout), _address(address), remote_id)
    click.echo(f"Imported {address} (id {item.id}). Run 'labform plan' to see any differences with the plan.")


@main.group()
def state():
    """Inspect and edit state."""


@state.command("list")
@PATH_ARG
@workspace_options
@handle_errors
def state_list(path, state, variables):
    for address in sorted(runner.read_state(_workspace(path, state, variables)).resources):
        click.echo(address)


@state.command("show")
@click.argument("address")
@PATH_ARG
@workspace_options
@handle_errors
def state_show(address, path, state, variables):
    current = runner.read_state(_workspace(path, state, variables))
    item = current.resources.get(str(_address(address)))
    if item is None:
        raise LabformError(f"{address} is not in state")
    sensitive = registry.resource_types()[item.type].Args.fields_with("sensitive")
    click.echo(f"# {address} (id {item.id})")
    width = max((len(k) for k in item.attributes), default=0)
    for key, value in sorted(item.attributes.items()):
        shown = SENSITIVE if key in sensitive else json.dumps(value, default=str)
        click.echo(f"  {key.ljust(width)} = {shown}")


@state.command("rm")
@click.argument("address")
@PATH_ARG
@workspace_options
@lock_option
@handle_errors
def state_rm(address, path, state, variables, lock_timeout):
    """Forget an object without deleting it remotely."""
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
    runner.state_mv(_workspace(path, state, variables, lock_timeout=lock_timeout), _address(source), _address(target))
    click.echo(f"Moved {source} to {target}.")


@main.command()
@PATH_ARG
@workspace_options
@click.option("-json", "--json", "as_json", is_flag=True)
@handle_errors
def output(path, state, variables, as_json):
    """Print the outputs recorded by the last apply."""
    outputs = runner.read_state(_workspace(path, state, variables)).outputs
    if as_json:
        click.echo(json.dumps(outputs, indent=2, sort_keys=True, default=str))
        return
    for name, value in sorted(outputs.items()):
        click.echo(f"{name} = {json.dumps(value, default=str)}")


@main.command()
@PATH_ARG
@workspace_options
@handle_errors
def graph(path, state, variables):
    """Print the dependency graph as DOT (pipe into 'dot -Tpng')."""
    click.echo(runner.graph_dot(_workspace(path, state, variables)), nl=False)


@main.command("force-unlock")
@PATH_ARG
@workspace_options
@handle_errors
def force_unlock(path, state, variables):
    """Remove a state lock left behind by a crashed labform."""
    holder = runner.force_unlock(_workspace(path, state, variables))
    if holder is None:
        click.echo("State is not locked.")
    else:
        click.echo(f"Removed the lock held by pid {holder.get('pid')} on {holder.get('host')} since {holder.get('time')}.")


@main.command("schema")
@click.option("--out-dir", default="schemas", type=click.Path(path_type=Path), show_default=True)
@handle_errors
def schema_(out_dir):
    """Write the JSON Schema of plan files (for editor completion)."""
    written = schema.write_schema(out_dir)
    click.echo(f"Wrote {written}")


def _emulated_clouds(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(values) - set(registry.emulator_names()))
    if unknown:
        raise click.BadParameter(f"no emulator for {', '.join(unknown)} (emulated: {', '.join(registry.emulator_names())})")
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
@click.option("--data", "--data-dir", "data_dir", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Keep the emulators' objects here, across restarts.")
@click.option("--only", "only", multiple=True, metavar="CLOUD", callback=_emulated_clouds, help="Serve only this cloud (repeatable).")
@click.option("--failure-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests that fail: refused (429, 500) or dropped before the cloud acts, "
                   "or answered with a 500, a dropped connection or a malformed 200 after it acted [default: 0].")
@click.option("--latency", default="0s", metavar="DURATION", callback=_duration, help="Delay every answer, e.g. 50ms [default: 0s].")
@click.option("--seed", type=int, default=None, help="Seed of the faults and the simulated results: the same seed replays the same faults.")
@click.option("--job-seconds", default=None, metavar="DURATION", callback=lambda ctx, param, value: None if value is None else _duration(ctx, param, value),
              help="How long a run or other async job takes [default: LABFORM_SANDBOX_JOB_SECONDS, else 4s].")
@click.option("--variant", "variants", multiple=True, metavar="CLOUD=NAME", callback=_cloud_variants,
              help="Serve CLOUD's emulator with one of its doc variants (providers/CLOUD/emulator/variants.py; repeatable).")
@handle_errors
def sandbox(port_base, data_dir, only, failure_rate, latency, seed, job_seconds, variants):
    """Serve every cloud's emulator on loopback until interrupted.

    With --failure-rate, --latency and --seed it is a flaky cloud to rehearse
    your own plans against; point a plan's provider at the printed URL and settings.
    """
    from contextlib import ExitStack

    from engine.sandbox import start_sandbox

    tuning = {"failure_rate": failure_rate, "latency": latency, "seed": seed, "job_seconds": job_seconds, "variants": variants}
    with ExitStack() as serving:
        try:
            running = serving.enter_context(
                start_sandbox(only or registry.emulator_names(), data_dir, port_base, {k: v for k, v in tuning.items() if v is not None})
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
