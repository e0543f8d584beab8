"""The ``put-migrate`` command: parse options, call ``put_migrate.api``, print, exit. Nothing else lives here."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path

import click

from put_migrate import __version__, api, project_config, report, safety
from put_migrate.monitors import CONFIG_SUFFIXES
from put_migrate.rules import Severity

PROGRESS_FROM = 200  # show a progress bar (stderr on a terminal only) for at least this many files

EPILOG = """\b
Examples:
  put-migrate src/                       rewrite every *.py file under src/ in place
  put-migrate --check .                  exit 1 if any file would change, write nothing
  put-migrate --diff . > migrate.patch   print a patch (git apply migrate.patch), write nothing
  put-migrate --check --report put-migrate.sarif --format sarif .
  put-migrate - --stdin-filename model.py < model.py

\b
Opt out with `# put-migrate: skip` on the line where a .log( call starts, or
`# put-migrate: skip-file` in the first 10 lines of a file.

\b
Exit status: 0 nothing left to do; 1 changes pending (--check/--diff) or calls
left for manual review; 2 usage error, a file that could not be read, parsed or
written, uncommitted changes (without --allow-dirty), or an internal error;
130 interrupted. 1 never means anything but work left to do.
"""


def _colour_diff(diff: bytes) -> bytes:
    out = []
    for line in diff.splitlines(keepends=True):
        body, end = (line[:-1], line[-1:]) if line.endswith(b"\n") else (line, b"")
        if line.startswith((b"+++", b"---")):
            out.append(b"\x1b[1m" + body + b"\x1b[0m" + end)
        elif line.startswith(b"@@"):
            out.append(b"\x1b[36m" + body + b"\x1b[0m" + end)
        elif line.startswith(b"+"):
            out.append(b"\x1b[32m" + body + b"\x1b[0m" + end)
        elif line.startswith(b"-"):
            out.append(b"\x1b[31m" + body + b"\x1b[0m" + end)
        else:
            out.append(line)
    return b"".join(out)


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Printer:
    """Per-file lines on stderr, the diff on stdout."""

    def __init__(self, mode: api.Mode, verbose: bool, quiet: bool, colour: bool) -> None:
        self.mode, self.verbose, self.quiet, self.colour = mode, verbose, quiet, colour
        self.stdout = click.get_binary_stream("stdout")  # type: ignore[operator]  # click 8.3+: module __getattr__
        self.lines: list[str] = []  # deferred while a progress bar owns stderr

    def file_done(self, result: api.FileResult) -> None:
        if result.diff:
            self.stdout.write(_colour_diff(result.diff) if self.colour else result.diff)
            self.stdout.flush()
        if result.changed and not self.quiet and self.mode is not api.Mode.DIFF:
            self.lines.append(f"{'rewrote' if result.written else 'would rewrite'} {result.path}")
        for finding in result.findings:
            if finding.severity is Severity.REWRITTEN and self.mode is not api.Mode.WRITE:
                finding = _conditional(finding)
            if finding.severity is Severity.ERROR:
                self.lines.append(finding.format())
            elif self.quiet:
                continue
            elif finding.severity is Severity.MANUAL or self.verbose:
                self.lines.append(finding.format())
        if result.detail and (self.verbose or api.debug_enabled()):
            self.lines.append(result.detail.rstrip("\n"))

    def flush(self) -> None:
        for line in self.lines:
            click.echo(line, err=True)
        self.lines.clear()


def _conditional(finding):
    """A rewritten call's finding as --check and --diff tell it: nothing was migrated yet."""
    message = finding.message
    if " migrated to " in message:
        message = message.replace(" migrated to ", " would be migrated to ", 1)
    else:
        message = f"would be rewritten: {message}"
    return replace(finding, message=message)


class _Failure(click.ClickException):
    """An error that is not the user's usage but still ends the run with exit status 2."""

    exit_code = api.EXIT_ERROR


EXIT_INTERRUPTED = 130  # the shell's status for SIGINT; click's own would be 1, which means "changes pending"


class _Command(click.Command):
    """A command whose exit status is always one of the documented ones: an exception that escapes the run is an
    internal error (2; its traceback with --verbose or PUT_MIGRATE_DEBUG), an interrupt is 130. Python's (and
    click's) 1 for both would read as "changes pending"."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("put-migrate: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # noqa: BLE001 - reported, with the documented status
            shown = ctx.params.get("verbose") or api.debug_enabled()
            if shown:
                click.echo(traceback.format_exc().rstrip("\n"), err=True)
            detail = "" if shown else " (--verbose shows the traceback)"
            raise _Failure(f"internal error: {type(exc).__name__}: {exc}{detail}") from None


def _write_report(path: str, fmt: str, results, monitors) -> None:
    text = report.render_report(results, fmt, monitors)
    if path == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _Failure(f"cannot write the report {path}: {exc.strerror or exc}") from None


def _load_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Option defaults from ``[tool.put-migrate]``: of the given pyproject.toml, else the nearest one at or above
    the current folder. Eager, so that the options read after it see ``ctx.default_map``."""
    try:
        found = project_config.read_tool_config(Path(value)) if value else project_config.find_tool_config(Path.cwd())
    except project_config.ConfigError as exc:
        raise click.UsageError(str(exc), ctx) from None
    # line-length is read per file by the codemod (project_config.import_style), like the ruff/isort settings.
    names = {"exclude": "excludes", "extend-exclude": "extend_excludes", "jobs": "jobs", "add-todo": "add_todo"}
    defaults = {names[key]: value for key, value in found.settings.items() if key in names}
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


def _check_monitors(configs: list[Path], results):
    """Monitored names of the run's Python files and of the YAML/JSON files under its paths (``monitors``)."""
    from put_migrate import monitors
    from put_migrate.discover import display_path

    python_files = [r.path for r in results if r.path.endswith(".py")]
    cwd = Path.cwd()
    marked = {r.path: (r.names_monitor, r.may_put) for r in results if r.path.endswith(".py")}
    scanned = {r.path: r.monitor_scan for r in results if r.monitor_scan is not None}
    return monitors.check(
        python_files, [display_path(p, cwd) for p in configs], (f for r in results for f in r.findings), marked,
        scanned,
    )


def _infer_format(report_path: str | None, fmt: str | None) -> str | None:
    if fmt or not report_path:
        return fmt
    if report_path.endswith(".sarif") or report_path.endswith(".sarif.json"):
        return "sarif"
    return "json"


@click.command(
    cls=_Command,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True, path_type=str))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file would change.")
@click.option("--diff", is_flag=True, help="Write nothing; print a unified diff (git apply accepts it); exit 1 if any.")
@click.option(
    "--exclude", "excludes", multiple=True, metavar="GLOB",
    help="Skip paths matching GLOB (repeatable); replaces the built-in list (build, venv, caches...) used outside git.",
)
@click.option(
    "--extend-exclude", "extend_excludes", multiple=True, metavar="GLOB",
    help="Skip paths matching GLOB (repeatable), in addition to the built-in list.",
)
@click.option(
    "--force-exclude", is_flag=True, help="Apply the exclusions to paths named on the command line too (pre-commit)."
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes [default: cores].")
@click.option(
    "--allow-dirty", is_flag=True,
    help="Write even if files that may be rewritten have uncommitted git changes (else the whole run is refused).",
)
@click.option(
    "--add-todo/--no-add-todo",
    default=False,
    help="Write `# TODO(put-migrate): PM2xx <advice>` above each call left for manual review.",
)
@click.option("--stdin-filename", metavar="PATH", help="Name of the file read from stdin (`-`), for messages.")
@click.option("--report", "report_path", metavar="FILE", help="Write a report of every call found (`-`: stdout).")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(report.FORMATS),
    help="Report format [default: sarif for *.sarif, else json].",
)
@click.option(
    "--names",
    "show_names",
    is_flag=True,
    help="Print (on stdout) the names each rewritten call puts, and every monitored name with what puts it.",
)
@click.option(
    "--color/--no-color", "colour", default=None, help="Colour the diff [default: on a terminal, unless NO_COLOR set]."
)
@click.option("-v", "--verbose", is_flag=True, help="Also list rewritten calls, and tracebacks of internal errors.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors (and the diff).")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_load_config,
    help="pyproject.toml to read [tool.put-migrate] from [default: the nearest one].",
)
@click.version_option(__version__, "-V", "--version", prog_name="put-migrate")
@click.pass_context
def main(
    ctx: click.Context,
    paths: tuple[str, ...],
    check: bool,
    diff: bool,
    excludes: tuple[str, ...],
    extend_excludes: tuple[str, ...],
    force_exclude: bool,
    jobs: int | None,
    allow_dirty: bool,
    add_todo: bool,
    stdin_filename: str | None,
    report_path: str | None,
    report_format: str | None,
    show_names: bool,
    colour: bool | None,
    verbose: bool,
    quiet: bool,
) -> None:
    """Rewrite Lightning `self.log(...)` calls into torchmetrics aggregation plus `self.put(...)`.

    PATHS are files and folders (searched for *.py and *.ipynb, honouring .gitignore); `-` reads stdin and writes the result to
    stdout.
    """
    # A run allocates many short-lived syntax trees that hold no cycles; collecting every 700 allocations (Python's
    # default) took 6% of a check over torch + lightning + torchmetrics (mypy raises the threshold likewise).
    thresholds = gc.get_threshold()
    ctx.call_on_close(lambda: gc.set_threshold(*thresholds))  # in-process callers get theirs back
    gc.set_threshold(100_000, 50, 100)
    if not paths:
        raise click.UsageError("no PATH given (use `.` for the current folder, `-` for stdin)")
    if report_format and not report_path:
        raise click.UsageError("--format needs --report FILE")
    if show_names and (diff or "-" in paths or report_path == "-"):
        raise click.UsageError("--names prints on stdout: it cannot be combined with --diff, `-` or --report -")
    if report_path == "-" and (diff or (paths == ("-",) and not check)):
        what = "the diff" if diff else "the migrated file"
        raise click.UsageError(f"--report - would mix the report into {what} on stdout: write it to a file")
    mode = api.Mode.DIFF if diff else api.Mode.CHECK if check else api.Mode.WRITE
    report_format = _infer_format(report_path, report_format)
    stdout = click.get_binary_stream("stdout")  # type: ignore[operator]  # click 8.3+: module __getattr__
    if colour is None:  # https://no-color.org: set and not empty turns colour off
        colour = _is_tty(sys.stdout) and not os.environ.get("NO_COLOR")
    printer = _Printer(mode, verbose, quiet, colour)

    configs: list[Path] = []  # YAML/JSON files for the monitors section
    if "-" in paths:
        if len(paths) > 1:
            raise click.UsageError("`-` (stdin) cannot be combined with other paths")
        data = click.get_binary_stream("stdin").read()  # type: ignore[operator]  # click 8.3+: module __getattr__
        name = stdin_filename or "-"
        result, new_data = api.migrate_bytes(data, name, mode=mode, add_todo=add_todo)
        if mode is api.Mode.WRITE:
            stdout.write(new_data)
            stdout.flush()
        results = [result]
        printer.file_done(result)
    else:
        options = api.RunOptions(
            mode=mode, jobs=jobs, excludes=excludes, allow_dirty=allow_dirty,
            extend_excludes=extend_excludes, force_exclude=force_exclude, add_todo=add_todo,
            mark_monitors=bool(report_path or show_names),
        )
        with api.EarlyPool(paths, options) as early:
            try:
                files, configs = api.discover(paths, options, CONFIG_SUFFIXES if options.mark_monitors else ())
                tasks = api.plan_tasks(paths, options, files)
            except FileNotFoundError as exc:
                raise click.UsageError(f"no such file or folder: {exc}") from None
            except safety.DirtyTree as exc:
                raise _Failure(f"PM304: {exc}".rstrip("\n")) from None
            if not tasks:
                click.echo(f"put-migrate: no Python files (*.py, *.ipynb) found in {', '.join(paths)}", err=True)
            results = []
            show_progress = len(tasks) >= PROGRESS_FROM and _is_tty(sys.stderr) and not quiet
            if show_progress:
                with click.progressbar(length=len(tasks), label="put-migrate", file=sys.stderr) as bar:
                    for result in api.run_tasks(tasks, jobs, pool=early.pool):
                        results.append(result)
                        printer.file_done(result)
                        bar.update(1)
            else:
                for result in api.run_tasks(tasks, jobs, pool=early.pool):
                    results.append(result)
                    printer.file_done(result)
                    printer.flush()
    printer.flush()

    monitors = None
    if (report_path or show_names) and "-" not in paths:
        monitors = _check_monitors(configs, results)
        if not quiet:
            for finding in monitors.findings:
                click.echo(finding.format(), err=True)
    if show_names:
        click.echo(report.format_names(results, monitors), nl=False)
    if report_path:
        _write_report(report_path, report_format or "json", results, monitors)
    if not quiet or any(r.status is api.FileStatus.ERROR for r in results):
        click.echo(report.format_summary(report.summarize(results), mode), err=True)
    ctx.exit(api.exit_code(results, mode))
