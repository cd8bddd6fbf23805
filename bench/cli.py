"""The ``bench`` command: parse, call one function, turn a BenchError into one line and exit 2.

Heavy modules (TensorFlow, pandas) are imported inside the commands that need them, so
``bench validate``, ``status`` and ``report`` start fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bench import __version__
from bench.config.schema import EXPLAIN_METHODS, METRIC, Range, suggest
from bench.errors import BenchError
from bench.quiet import quiet_tensorflow

EXAMPLES = """\
examples:
  bench validate suites/ultrasound.toml          show the expanded plan, train nothing
  bench run suites/ultrasound.toml               train what is not stored yet (resumable)
  bench run suites/ultrasound.toml --profile paper
  bench status suites/ultrasound.toml            done / pending / failed jobs per cell
  bench report suites/ultrasound.toml --latex    tables, figures → reports/ultrasound/
  bench export suites/ultrasound.toml --best auc  retrain the winner → results/ultrasound/exports/
  bench mlflow suites/ultrasound.toml --uri sqlite:///mlflow.db   runs for the MLflow UI
"""


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors in one line (exit code 2, as every user mistake)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class Bounded:
    """An argparse type: an int or float that a schema :class:`Range` admits."""

    def __init__(self, kind: type, rule: Range):
        self.kind, self.rule = kind, rule
        self.__name__ = "integer" if kind is int else "number"  # argparse names it in errors

    def __call__(self, text: str):
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an {self.__name__}, got {text!r}") from None
        if not self.rule.admits(value):
            raise argparse.ArgumentTypeError(f"must be {self.rule}, got {text}")
        return value


def metric_name(text: str) -> str:
    """An argparse type: a metric bench computes (see bench.metrics)."""
    if not METRIC.admits(text):
        known = ", ".join(METRIC.rule.options())
        raise argparse.ArgumentTypeError(
            f"unknown metric {text!r}{suggest(text, METRIC.rule.options())} (known: {known})"
        )
    return text


class Choices:
    """argparse choices owned by another module, read when first needed, so a command that
    never checks them does not import that module (``bench status`` starts fast)."""

    def __init__(self, read: Callable[[], Iterable[str]]):
        self.read = read

    def __iter__(self) -> Iterator[str]:
        return iter(self.read())

    def __contains__(self, value: object) -> bool:
        return value in self.read()


def _test_names() -> list[str]:
    from bench.stats import TESTS

    return ["report", *TESTS]


def _adjustments() -> list[str]:
    from bench.stats import ADJUSTMENTS

    return [*ADJUSTMENTS, "none"]


def _options(*flags: str, **kwargs) -> argparse.ArgumentParser:
    """A parent parser holding one option, declared here once for every command that has it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*flags, **kwargs)
    return parent


COUNT = Bounded(int, Range(1))
DEBUG = _options("--debug", action="store_true", help="show tracebacks")
PROFILE = _options("--profile", default=None, help="apply the suite's [profiles.NAME] overrides")
RESULTS = _options(
    "--results", default="results", type=Path, help="results folder (default results)"
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if args.debug:
        os.environ["BENCH_DEBUG"] = "1"  # worker processes inherit it
    quiet_tensorflow()
    try:
        return args.handler(args) or 0
    except BenchError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="bench",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Rigorous, reproducible benchmarks of transfer-learning recipes for "
        "medical image classification.",
    )
    parser.add_argument("--version", action="version", version=f"bench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_parser(commands)
    _validate_parser(commands)
    _add(commands, "status", _status, "done, pending and failed jobs per cell")
    _report_parser(commands)
    _compare_parser(commands)
    _import_parser(commands)
    _regress_parser(commands)
    _export_parser(commands)
    _mlflow_parser(commands)
    _model_parsers(commands)
    _data_parser(commands)
    _cache_parser(commands)
    return parser


def _compare_parser(commands) -> None:
    sub = commands.add_parser(
        "compare",
        parents=[PROFILE, DEBUG],
        help="test each level of a factor against a baseline level, or each cell against a "
        "published table",
        description="Compare each level of FACTOR with BASELINE over cells matched on the other "
        "factors; p-values adjusted across the comparisons. With --published NAME instead: "
        "test each cell's fold scores against the value of the imported table NAME (TOST at "
        "--margin) and say per cell: reproduced, differs or inconclusive.",
    )
    sub.add_argument(
        "suite",
        help="suite TOML file, or the name of a results folder (e.g. one made by `bench import`)",
    )
    sub.add_argument(
        "--metric",
        type=metric_name,
        help="metric to compare, e.g. auc (with --published, default: every metric both hold)",
    )
    sub.add_argument("--factor", help="grid axis, e.g. strategy")
    sub.add_argument("--baseline", help="level compared against, e.g. scratch")
    sub.add_argument(
        "--published",
        metavar="NAME",
        help="instead: test each cell against the table imported as NAME (`bench import`)",
    )
    sub.add_argument(
        "--margin",
        type=Bounded(float, Range(0, open_low=True)),
        help="with --published: the equivalence margin in the metric's units, e.g. 0.02 "
        "(default: [report] margin of the suite)",
    )
    sub.add_argument(
        "--test",
        default="report",
        choices=Choices(_test_names),
        metavar="TEST",  # a metavar: argparse would read the choices to build one
        help="%(choices)s; report (default): the report's test — the Nadeau-Bengio "
        "corrected t on fold means when folds are stored, else the paired t over cells, "
        "Holm-adjusted; "
        "paired_t/wilcoxon on per-cell means; corrected_t or bayes (correlated Bayesian t) "
        "on fold means",
    )
    sub.add_argument(
        "--adjust",
        default="holm",
        choices=Choices(_adjustments),
        metavar="METHOD",
        help="multiple-comparison adjustment: %(choices)s (default: holm)",
    )
    sub.add_argument(
        "--rope",
        type=Bounded(float, Range(0)),
        default=0.01,
        help="region of practical equivalence for --test bayes (default 0.01)",
    )
    sub.add_argument("--format", default="markdown", choices=["markdown", "csv", "json"])
    sub.set_defaults(handler=_compare)


def _import_parser(commands) -> None:
    sub = commands.add_parser(
        "import",
        parents=[DEBUG],
        help="load external results (a tidy CSV) into a results database",
        description="Columns: factor columns (strategy, backbone, ...), metric columns (auc, "
        "accuracy, ...), optional repeat, fold, n_train, n_test.",
    )
    sub.add_argument("csv", help="tidy CSV file")
    sub.add_argument("--suite", required=True, help="name of the results folder to create")
    sub.set_defaults(handler=_import)


def _regress_parser(commands) -> None:
    sub = commands.add_parser(
        "regress",
        parents=[PROFILE, DEBUG],
        help="rerun a suite fresh; exit 1 when a metric or the runtime regressed",
        description="Train SUITE into an empty folder, then test each cell's gated metrics for "
        "non-inferiority against the baseline (margins from [regression]) and compare the "
        "CPU time normalised by a calibration workload. Exit 0 pass, 1 regression, 2 bad input.",
    )
    sub.add_argument("suite", help="suite TOML file with a [regression] table")
    sub.add_argument(
        "--baseline",
        metavar="JSON",
        help="baseline file (default: results/baselines/<suite name>.json)",
    )
    sub.add_argument(
        "--update-baseline",
        action="store_true",
        help="write the fresh run to the baseline file instead of comparing",
    )
    sub.add_argument(
        "--keep",
        metavar="DIR",
        help="train into DIR (new or empty) and keep its results database; default: a "
        "temporary folder",
    )
    _add_quiet(sub)
    _add_backend(sub)
    sub.set_defaults(handler=_regress)


def _export_parser(commands) -> None:
    sub = _add(
        commands,
        "export",
        _export,
        "retrain one cell (refit on all labelled data, or one stored fold) and save it as "
        "model.keras + metadata.json",
    )
    choice = sub.add_mutually_exclusive_group(required=True)
    choice.add_argument(
        "--cell",
        metavar="ID",
        help="cell id, or key=value pairs that single it out (strategy=ctl,optimizer=adam)",
    )
    choice.add_argument(
        "--best",
        metavar="METRIC",
        type=metric_name,
        help="the cell with the best mean METRIC over its folds (lowest for loss, brier)",
    )
    sub.add_argument(
        "--fold",
        metavar="R:F",
        type=_fold_arg,
        help="retrain the stored fold job of repeat R, fold F (same weights as the run) "
        "instead of refitting on all labelled data",
    )
    sub.add_argument(
        "--out", metavar="DIR", type=Path, help="default: results/<suite>/exports/<cell>/"
    )


def _mlflow_parser(commands) -> None:
    sub = commands.add_parser(
        "mlflow",
        parents=[PROFILE, DEBUG],
        help="export the stored results to MLflow: a run per cell, a child run per fold",
        description="Export the stored results of SUITE to the MLflow tracking server at URI: "
        "one parent run per cell, one child run per fold (metrics, history as steps, job hash "
        "as tag), the report as artifacts. Idempotent: exporting again adds only new folds. "
        "Needs the mlflow extra.",
    )
    sub.add_argument("suite", help="suite TOML file, or the name of a results folder")
    sub.add_argument(
        "--uri", required=True, help="tracking URI, e.g. file:./mlruns or sqlite:///mlflow.db"
    )
    sub.set_defaults(handler=_mlflow)


def _mlflow(args) -> int:
    from bench.tracking.mlflow_runs import export_suite

    for line in export_suite(args.suite, uri=args.uri, profile=args.profile).lines():
        print(line)
    return 0


def _fold_arg(text: str) -> tuple[int, int]:
    repeat, sep, fold = text.partition(":")
    if not (sep and repeat.isdigit() and fold.isdigit()):
        raise argparse.ArgumentTypeError(f"expected R:F (repeat:fold, e.g. 0:1), got {text!r}")
    return int(repeat), int(fold)


def _model_parsers(commands) -> None:
    predict = _model_command(
        commands, "predict", _predict, "class probabilities and labels of images, as CSV"
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    predict.add_argument("--out", metavar="FILE", type=Path, help="CSV file (default: stdout)")
    serve = _model_command(
        commands, "serve", _serve, "serve a model over HTTP: POST /predict, GET /health, /metadata"
    )
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine)")
    serve.add_argument(
        "--port", type=Bounded(int, Range(1, 65535)), default=8000, help="default 8000"
    )
    serve.add_argument(
        "--max-upload-mb",
        type=Bounded(float, Range(0, open_low=True)),
        default=10.0,
        help="largest image accepted (default 10)",
    )
    explain = _model_command(
        commands, "explain", _explain, "Grad-CAM (or SHAP) maps overlaid on images, as PNG", PROFILE
    )
    explain.add_argument("images", nargs="*", metavar="IMAGE", help="image files or folders")
    explain.add_argument(
        "--out", metavar="DIR", type=Path, default=Path("gradcam"), help="default ./gradcam/"
    )
    explain.add_argument(
        "--method",
        choices=EXPLAIN_METHODS,
        default=None,
        help="gradcam (default; with --examples the suite's [report] explain) or shap "
        "(model-agnostic, needs the explain extra)",
    )
    explain.add_argument(
        "--class", dest="target", metavar="NAME", help="class to explain (default: predicted)"
    )
    explain.add_argument(
        "--examples",
        metavar="SUITE",
        help="instead of IMAGEs: draw the report's examples figure (correct and wrong test "
        "images per class of a model exported with --fold) for this suite",
    )
    explain.add_argument(
        "--per-class", type=COUNT, default=3, metavar="N", help="with --examples: default 3"
    )


def _model_command(
    commands, name: str, handler, help_text: str, *parents: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    sub = commands.add_parser(
        name, help=help_text, description=help_text, parents=[*parents, DEBUG]
    )
    sub.add_argument("model", help="folder written by `bench export` (or its model.keras)")
    sub.set_defaults(handler=handler)
    return sub


def _add(commands, name: str, handler, help_text: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text, parents=[PROFILE, DEBUG])
    sub.add_argument("suite", help="path to a suite TOML file, e.g. suites/ultrasound.toml")
    _add_backend(sub)
    sub.set_defaults(handler=handler)
    return sub


def _validate_parser(commands) -> None:
    sub = _add(commands, "validate", _validate, "check a suite and print its expanded plan")
    sub.add_argument(
        "--against",
        metavar="CARD",
        help="hold the suite against a protocol card (a name in bench/protocols/ or a path); "
        "exit 1 on an undeclared difference",
    )
    sub.add_argument(
        "--format",
        default="text",
        choices=["text", "json"],
        help="json: the resolved plan (every stage's effective settings), no data read",
    )


def _run_parser(commands) -> None:
    sub = _add(commands, "run", _run, "train every job of a suite not yet stored, then summarise")
    sub.add_argument(
        "--retry-failed",
        action="store_true",
        help="rerun jobs stored as failed (otherwise they are skipped)",
    )
    sub.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    sub.add_argument(
        "--no-reuse",
        action="store_true",
        help="rebuild every model and retrain shared stages per cell "
        "(only to measure what reuse saves)",
    )
    _add_verbosity(sub)
    sub.add_argument(
        "--dry-run",
        action="store_true",
        help="plan and say per job what is stored, stale (and why) or to train; train nothing",
    )
    _add_execution(sub)
    sub.add_argument(
        "--mlflow",
        metavar="URI",
        help="log each fold to the MLflow tracking server at URI as it finishes "
        "(default: [tracking] mlflow of the suite); needs the mlflow extra",
    )


def _add_verbosity(sub: argparse.ArgumentParser) -> None:
    loudness = sub.add_mutually_exclusive_group()
    _add_quiet(loudness)
    loudness.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="a progress line per fold job too (default: per shared stage and per cell)",
    )


def _add_quiet(container) -> None:
    container.add_argument(
        "--quiet", "-q", action="store_true", help="print only the summary: no progress"
    )


def _add_backend(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--backend",
        metavar="NAME",
        help="Keras backend: tensorflow, torch or jax (default: [suite] backend, else "
        "KERAS_BACKEND, else tensorflow); part of every job's identity",
    )


def _add_execution(sub: argparse.ArgumentParser) -> None:
    """Where `bench run` trains: this process, local worker processes, or a Dask cluster."""
    sub.add_argument(
        "--jobs",
        "-j",
        type=COUNT,
        metavar="N",
        help="train N jobs at once in local worker processes (default 1: in this process); "
        "with --executor dask, at most N at once",
    )
    sub.add_argument(
        "--executor",
        choices=["serial", "local", "dask"],
        help="serial: this process; local: worker processes (default when --jobs > 1); "
        "dask: the cluster at --scheduler",
    )
    sub.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://HOST:8786")
    sub.add_argument(
        "--threads",
        type=COUNT,
        metavar="T",
        help="threads each job trains with (default 1, whatever --jobs is); part of every "
        "job's identity, since the thread count changes the last digits of the numbers",
    )
    sub.add_argument(
        "--max-jobs-per-worker",
        type=COUNT,
        default=50,
        metavar="M",
        help="replace a local worker process after M jobs, so memory cannot creep (default 50)",
    )
    sub.add_argument(
        "--wait",
        action="store_true",
        help="if another run holds the results directory, wait for it instead of refusing",
    )


def _load(args):
    """The suite, with its Keras backend chosen (before Keras is imported) and checked."""
    from bench.backend import activate, check_precision, choose_backend
    from bench.config import load_suite
    from bench.engine.identity import DEFAULT_THREADS, thread_env
    from bench.engine.provenance import gpus

    suite = load_suite(args.suite, profile=args.profile)
    # before anything in this process starts TensorFlow: jobs train with a fixed thread count
    os.environ.update(thread_env(getattr(args, "threads", None) or DEFAULT_THREADS))
    backend = activate(choose_backend(getattr(args, "backend", None), suite.backend))
    check_precision(suite.train.precision, backend=backend, has_gpu=bool(gpus()))
    return dataclasses.replace(suite, backend=backend)  # the one the jobs' identity names


def _run(args) -> int:
    import signal

    signal.signal(signal.SIGTERM, _interrupt)  # a batch system's stop: summary, then exit
    from bench import api

    suite = _load(args)
    if args.dry_run:
        return _dry_run(suite, threads=args.threads)
    if not args.quiet:
        print(
            f"bench run {suite.name} (profile {suite.profile}, hash {suite.hash}): "
            f"{len(suite.cells)} cells × {suite.protocol.folds} folds × "
            f"{suite.protocol.repeats} repeat(s)",
            file=sys.stderr,
        )
    with _tracking(suite, args.mlflow) as on_fold:
        summary = api.run(
            suite,
            jobs=args.jobs,
            executor=args.executor,
            threads=args.threads,
            scheduler=args.scheduler,
            max_jobs_per_worker=args.max_jobs_per_worker,
            retry_failed=args.retry_failed,
            fail_fast=args.fail_fast,
            reuse=not args.no_reuse,
            progress=not args.quiet,
            verbose=args.verbose,
            wait=args.wait,
            on_fold=on_fold,
        )
    for line in summary.lines():
        print(line)
    print(f"results: {suite.store_path}")
    return 130 if summary.interrupted else (1 if summary.failed else 0)


def _tracking(suite, uri: str | None):
    """The live MLflow log of `--mlflow URI` or [tracking] mlflow, or nothing."""
    import contextlib

    uri = uri or suite.tracking.mlflow
    if uri is None:
        return contextlib.nullcontext()
    from bench.tracking.mlflow_runs import LiveLog

    return LiveLog(suite, uri)


def _dry_run(suite, *, threads: int | None) -> int:
    from bench.engine.cache import describe_states, job_states
    from bench.engine.plan import make_plan

    for line in describe_states(job_states(make_plan(suite, threads=threads))):
        print(line)
    return 0


def _cache_parser(commands) -> None:
    cache = commands.add_parser(
        "cache",
        help="list or prune the shared stage cache",
        description="Shared pretraining stages are cached under RESULTS/cache/stages and "
        "taken by every suite with the same stage: list them (size, last use, the suites "
        "whose current plan uses them) or remove those no suite uses.",
    )
    actions = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="list the cached stages",
        description="List the cached stages.",
        parents=[RESULTS, DEBUG],
    )
    listing.set_defaults(handler=_cache_list)
    prune = actions.add_parser(
        "prune",
        help="remove unused stages",
        description="Remove unused stages.",
        parents=[RESULTS, DEBUG],
    )
    prune.add_argument("--dry-run", action="store_true", help="say what would go")
    prune.set_defaults(handler=_cache_prune)


def _results_folder(args) -> Path:
    if not args.results.is_dir():
        raise BenchError(f"{args.results}: no results folder; pass --results DIR")
    return args.results


def _cache_list(args) -> int:
    from bench.engine.cache import describe_cache, list_cache

    print("\n".join(describe_cache(list_cache(_results_folder(args)))))
    return 0


def _cache_prune(args) -> int:
    from bench.engine.cache import prune_cache

    removed = prune_cache(_results_folder(args), dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(removed)} unused stage(s), {sum(e.bytes for e in removed) / 2**20:.1f} MiB")
    for entry in removed:
        print(f"  {entry.path}")
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _validate(args) -> int:
    if args.against or args.format == "json":
        return _validate_protocol(args)
    from bench.engine.describe import describe_plan
    from bench.engine.plan import make_plan

    print(describe_plan(make_plan(_load(args))))
    return 0


def _validate_protocol(args) -> int:
    """The resolved plan as JSON and/or its conformance to a card; reads no data."""
    import json
    from dataclasses import asdict

    from bench.config import load_suite
    from bench.engine.conformance import check_conformance, conformance_lines
    from bench.engine.resolve import resolve_plan

    suite = load_suite(args.suite, profile=args.profile)
    result = check_conformance(suite, args.against) if args.against else None
    if args.format == "json":
        plan = resolve_plan(suite)
        if result is not None:
            plan["conformance"] = [asdict(row) for row in result.rows]
        print(json.dumps(plan, indent=2, ensure_ascii=False))
    else:
        print("\n".join(conformance_lines(suite, result)))
    return 1 if result is not None and result.differences else 0


def _status(args) -> int:
    from bench.engine.lock import holder
    from bench.store.status import suite_status

    suite = _load(args)
    print(suite_status(suite, running=holder(suite.store_path.parent)))
    return 0


def _report_parser(commands) -> None:
    sub = commands.add_parser(
        "report",
        parents=[PROFILE, DEBUG],
        help="write the report (tables, comparisons, figures) to reports/<suite>/",
        description="Read the results database, never train, and write reports/<suite>/: "
        "report.md, folds.csv and figures/ (PNG and PDF); --latex adds booktabs tables and a "
        "standalone report.tex, --html a report.html.",
    )
    sub.add_argument(
        "suite",
        nargs="?",
        help="suite TOML file, or the name of a results folder (e.g. one made by `bench import`)",
    )
    sub.add_argument(
        "--across",
        nargs="+",
        metavar="SUITE",
        help="instead: rank the methods the suites share across their datasets (Friedman, "
        "Nemenyi CD diagram) into reports/across-<names>/",
    )
    sub.add_argument("--latex", action="store_true", help="also write LaTeX tables and report.tex")
    sub.add_argument("--html", action="store_true", help="also write report.html")
    sub.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        metavar="M",
        type=metric_name,
        help="metric column to show (repeatable; default: [report].metrics)",
    )
    sub.add_argument(
        "--sort", metavar="M", type=metric_name, help="metric to rank by (default: [report].sort)"
    )
    sub.add_argument(
        "--baseline",
        metavar="LEVEL",
        help="strategy the others are tested against (default: [report].baseline)",
    )
    sub.set_defaults(handler=_report)


def _report(args) -> int:
    from bench import api

    if (args.suite is None) == (args.across is None):
        raise BenchError("give a SUITE, or --across SUITE SUITE... (not both)")
    if args.across:
        return _report_across(args)
    files = api.report(
        args.suite,
        profile=args.profile,
        latex=args.latex,
        html=args.html,
        metrics=args.metrics,
        sort=args.sort,
        baseline=args.baseline,
    )
    figures = [path for path in files if path.parent.name == "figures"]
    for path in files:
        if path not in figures:
            print(f"wrote {path}")
    if figures:
        print(f"wrote {len(figures)} figure files under {figures[0].parent}/")
    return 0


def _report_across(args) -> int:
    from bench.report.across import write_across_report
    from bench.report.target import resolve_target

    targets = [resolve_target(path, profile=args.profile) for path in args.across]
    for path in write_across_report(targets, metric=args.sort):
        print(f"wrote {path}")
    return 0


def _compare(args) -> int:
    from bench import stats
    from bench.store.scores import scores_for

    if args.published:
        return _compare_published(args)
    needed = {"--metric": args.metric, "--factor": args.factor, "--baseline": args.baseline}
    missing = [option for option, value in needed.items() if value is None]
    if missing:
        raise BenchError(
            f"bench compare: give {', '.join(missing)} (or --published NAME to test each cell "
            "against a published table)"
        )
    if args.margin is not None:
        raise BenchError("--margin is the equivalence margin of --published; drop it")
    scores = scores_for(args.suite, profile=args.profile)
    if args.test == "report":
        rows = _report_comparisons(scores, args)
    else:
        rows = stats.compare_levels(
            scores,
            metric=args.metric,
            factor=args.factor,
            baseline=args.baseline,
            test=args.test,
            rope=args.rope,
            adjust=args.adjust,
        )
        print(f"test: {stats.TESTS[args.test]}", file=sys.stderr)
    render = {
        "markdown": stats.comparisons_to_markdown,
        "csv": stats.comparisons_to_csv,
        "json": stats.comparisons_to_json,
    }[args.format]
    print(render(rows))
    return 0


def _compare_published(args) -> int:
    """Verdicts of the suite's cells against an imported table, the procedure on stderr."""
    from bench import stats
    from bench.report.reproduction import procedure, summary, verdicts_against
    from bench.report.target import resolve_target
    from bench.store.scores import scores_for

    extra = [name for name in ("factor", "baseline") if getattr(args, name) is not None]
    extra += [
        name
        for name, default in (("test", "report"), ("adjust", "holm"))
        if getattr(args, name) != default
    ]
    if extra:
        options = ", ".join(f"--{name}" for name in extra)
        raise BenchError(f"--published tests each cell against the table; drop {options}")
    result = verdicts_against(
        resolve_target(args.suite, profile=args.profile),
        scores_for(args.suite, profile=args.profile),
        published=args.published,
        margin=args.margin,
        metrics=[args.metric] if args.metric else None,
    )
    print(f"test: {procedure(result)}", file=sys.stderr)
    for line in summary(result):
        print(line, file=sys.stderr)
    render = {
        "markdown": stats.reproductions_to_markdown,
        "csv": stats.reproductions_to_csv,
        "json": stats.reproductions_to_json,
    }[args.format]
    print(render(result))
    return 0


def _report_comparisons(scores, args) -> tuple:
    """The comparisons exactly as the report makes them, with the procedure on stderr."""
    from bench.report.significance import compare_with_baseline

    if args.adjust != "holm":
        raise BenchError("--test report adjusts with Holm, as the report does; drop --adjust")
    if args.metric not in scores.columns:
        metrics = ", ".join(c for c in scores.columns if c not in ("cell", "repeat", "fold"))
        raise BenchError(f"--metric {args.metric}: not in the stored scores ({metrics})")
    result = compare_with_baseline(
        scores,
        metrics=[args.metric],
        factors=scores.attrs["factors"],
        baseline=args.baseline,
        factor=args.factor,
    )
    if result.test is not None:
        print(f"test: {result.procedure} (as in the report)", file=sys.stderr)
    for note in result.notes:
        print(note, file=sys.stderr)
    return result.comparisons


def _import(args) -> int:
    from bench.store.imports import import_csv

    path, count = import_csv(args.csv, suite=args.suite)
    print(
        f"imported {count} rows into {path}; compare with "
        f"`bench compare {args.suite} --metric M --factor F --baseline LEVEL`, or test a "
        f"reproduction against it with `bench compare SUITE --published {args.suite}`"
    )
    return 0


def _regress(args) -> int:
    from pathlib import Path

    from bench import regress

    suite = _load(args)
    baseline = Path(args.baseline) if args.baseline else regress.default_baseline_path(suite)
    keep = Path(args.keep) if args.keep else None
    progress = not args.quiet and not os.environ.get("CI")
    print(f"bench regress {suite.name}: training every job fresh", file=sys.stderr)
    if args.update_baseline:
        run = regress.update_baseline(suite, baseline=baseline, keep=keep, progress=progress)
        _print_run(run)
        print(f"wrote {baseline}; commit it with the change that explains it")
        return 0
    run, report = regress.run_gate(suite, baseline=baseline, keep=keep, progress=progress)
    _print_run(run)
    print(regress.render_report(report))
    return 0 if report.passed else 1


def _print_run(run) -> None:
    snapshot = run.snapshot
    for line in run.summary.lines():
        print(line, file=sys.stderr)
    print(
        f"cpu time {snapshot.suite_seconds:.1f} s, calibration {snapshot.calibration_seconds:.2f}"
        f" s → normalised runtime {snapshot.normalised_runtime:.1f}",
        file=sys.stderr,
    )


def _export(args) -> int:
    from bench.serve.export import ExportRequest, export_model

    request = ExportRequest(cell=args.cell, best=args.best, fold=args.fold, out=args.out)
    result = export_model(
        _load(args), request=request, log=lambda line: print(line, file=sys.stderr)
    )
    for line in result.lines():
        print(line)
    return 0


def _bundle(args):
    from bench.serve.bundle import load_bundle

    return load_bundle(args.model)


def _predict(args) -> int:
    from bench.serve.predict import predict_to_csv

    bundle = _bundle(args)
    if args.out is None:
        predict_to_csv(bundle, args.paths, out=sys.stdout)
        return 0
    with open(args.out, "w", newline="") as out:
        count = predict_to_csv(bundle, args.paths, out=out)
    print(f"wrote {count} predictions to {args.out}", file=sys.stderr)
    return 0


def _serve(args) -> int:
    from bench.serve.server import require_serve_extra, serve

    require_serve_extra()
    bundle = _bundle(args)
    print(
        f"serving {bundle.metadata.cell} at http://{args.host}:{args.port} "
        "(POST /predict, GET /health, GET /metadata)",
        file=sys.stderr,
    )
    serve(bundle, host=args.host, port=args.port, max_upload=int(args.max_upload_mb * 1e6))
    return 0


def _explain(args) -> int:
    from bench.serve.gradcam import explain_files

    if args.examples:
        from bench.config import load_suite
        from bench.serve.examples import write_examples

        suite = load_suite(args.examples, profile=args.profile)
        png = write_examples(_bundle(args), suite, per_class=args.per_class, method=args.method)
        print(f"wrote {png} (and .pdf); `bench report {args.examples}` shows it")
        return 0
    if not args.images:
        raise BenchError("bench explain: give IMAGE files or folders, or --examples SUITE")
    method = args.method or "gradcam"
    explained = explain_files(
        _bundle(args), args.images, out=args.out, target=args.target, method=method
    )
    for item in explained:
        print(f"wrote {item.output} ({item.label} {item.probability:.3f})")
    return 0


def _data_parser(commands) -> None:
    data = commands.add_parser(
        "data",
        help="look at a dataset before training on it",
        description="Look at a dataset before training on it.",
    )
    data.set_defaults(handler=lambda args: data.print_help() or 2, debug=False)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    sub = actions.add_parser(
        "inspect",
        parents=[PROFILE, DEBUG],
        help="counts per class and patient, sizes, unreadable files, duplicates",
        description="Counts per class and patient, image sizes and modes, unreadable files, "
        "files without labels, exact and near duplicates of one dataset.",
    )
    sub.add_argument(
        "spec",
        help='a source such as "folder:data/busi" or "csv:data/x/labels.csv", or a suite TOML',
    )
    sub.add_argument(
        "--dataset", help="with a suite file: the dataset to inspect (default: its target)"
    )
    sub.add_argument(
        "--near",
        type=Bounded(int, Range(0, 64)),
        default=5,
        metavar="BITS",
        help="near duplicates differ in at most BITS of 64 dHash bits (default 5)",
    )
    sub.add_argument("--show", type=COUNT, default=10, metavar="N", help="rows per list (10)")
    sub.set_defaults(handler=_data_inspect)


def _data_inspect(args) -> int:
    from bench.data.inspection import inspect_source, inspected_spec, render_inspection

    spec, image_size = inspected_spec(args.spec, dataset=args.dataset, profile=args.profile)
    inspection = inspect_source(spec, image_size=image_size, max_distance=args.near)
    print(render_inspection(inspection, show=args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
