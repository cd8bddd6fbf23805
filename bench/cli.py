"""The ``bench`` command: parse, call one function, turn a BenchError into one line and exit 2.

Heavy modules (TensorFlow, pandas) are imported inside the commands that need them, so
``bench validate``, ``status`` and ``report`` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from bench import __version__
from bench.errors import BenchError

EXAMPLES = """\
examples:
  bench validate suites/ultrasound.toml          show the expanded plan, train nothing
  bench run suites/ultrasound.toml               train what is not stored yet (resumable)
  bench run suites/ultrasound.toml --profile paper
  bench status suites/ultrasound.toml            done / pending / failed jobs per cell
  bench report suites/ultrasound.toml --latex    leaderboard → reports/ultrasound/
"""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
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
    parser = argparse.ArgumentParser(
        prog="bench",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Rigorous, reproducible benchmarks of transfer-learning recipes for "
        "medical image classification.",
    )
    parser.add_argument("--version", action="version", version=f"bench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add(commands, "run", _run, "train every job of a suite not yet stored, then summarise")
    _add(commands, "validate", _validate, "check a suite and print its expanded plan")
    _add(commands, "status", _status, "done, pending and failed jobs per cell")
    report = _add(commands, "report", _report, "write leaderboards to reports/<suite>/")
    report.add_argument("--latex", action="store_true", help="also write leaderboard.tex")
    report.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        metavar="M",
        help="metric column to show (repeatable; default: [report].metrics)",
    )
    report.add_argument("--sort", metavar="M", help="metric to rank by (default: [report].sort)")
    _compare_parser(commands)
    _import_parser(commands)
    return parser


def _compare_parser(commands) -> None:
    sub = commands.add_parser(
        "compare",
        help="test each level of a factor against a baseline level",
        description="Compare each level of FACTOR with BASELINE over cells matched on the other "
        "factors; p-values adjusted across the comparisons.",
    )
    sub.add_argument(
        "suite",
        help="suite TOML file, or the name of a results folder (e.g. one made by `bench import`)",
    )
    sub.add_argument("--metric", required=True, help="metric to compare, e.g. auc")
    sub.add_argument("--factor", required=True, help="grid axis, e.g. strategy")
    sub.add_argument("--baseline", required=True, help="level compared against, e.g. scratch")
    sub.add_argument(
        "--test",
        default="paired_t",
        choices=["paired_t", "wilcoxon", "corrected_t", "bayes"],
        help="paired_t/wilcoxon on per-cell means; corrected_t (Nadeau-Bengio) or "
        "bayes (correlated Bayesian t) on fold means (default: paired_t)",
    )
    sub.add_argument(
        "--adjust",
        default="holm",
        choices=["holm", "bonferroni", "fdr_bh", "none"],
        help="multiple-comparison adjustment (default: holm)",
    )
    sub.add_argument(
        "--rope",
        type=float,
        default=0.01,
        help="region of practical equivalence for --test bayes (default 0.01)",
    )
    sub.add_argument("--format", default="markdown", choices=["markdown", "csv", "json"])
    sub.add_argument("--profile", default=None, help="apply [profiles.NAME] overrides")
    sub.add_argument("--debug", action="store_true", help="show tracebacks")
    sub.set_defaults(handler=_compare)


def _import_parser(commands) -> None:
    sub = commands.add_parser(
        "import",
        help="load external results (a tidy CSV) into a results database",
        description="Columns: factor columns (strategy, backbone, ...), metric columns (auc, "
        "accuracy, ...), optional repeat, fold, n_train, n_test.",
    )
    sub.add_argument("csv", help="tidy CSV file")
    sub.add_argument("--suite", required=True, help="name of the results folder to create")
    sub.add_argument("--debug", action="store_true", help="show tracebacks")
    sub.set_defaults(handler=_import)


def _add(commands, name: str, handler, help_text: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.add_argument("suite", help="path to a suite TOML file, e.g. suites/ultrasound.toml")
    sub.add_argument("--profile", default=None, help="apply [profiles.NAME] overrides")
    sub.add_argument("--debug", action="store_true", help="show tracebacks")
    sub.set_defaults(handler=handler)
    if name == "run":
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
        sub.add_argument("--quiet", action="store_true", help="no progress bar")
    return sub


def _load(args):
    from bench.config import load_suite

    return load_suite(args.suite, profile=args.profile)


def _run(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1" if args.debug else "3")
    from bench.engine.runner import RunOptions, run_suite

    suite = _load(args)
    options = RunOptions(
        retry_failed=args.retry_failed,
        fail_fast=args.fail_fast,
        reuse=not args.no_reuse,
        progress=not args.quiet and not os.environ.get("CI"),
    )
    print(
        f"bench run {suite.name} (profile {suite.profile}, hash {suite.hash}): "
        f"{len(suite.cells)} cells × {suite.protocol.folds} folds × "
        f"{suite.protocol.repeats} repeat(s)",
        file=sys.stderr,
    )
    summary = run_suite(suite, options=options)
    for line in summary.lines():
        print(line)
    print(f"results: {suite.store_path}")
    return 130 if summary.interrupted else (1 if summary.failed else 0)


def _validate(args) -> int:
    from bench.engine.describe import describe_plan
    from bench.engine.plan import make_plan

    print(describe_plan(make_plan(_load(args))))
    return 0


def _status(args) -> int:
    from bench.store.status import suite_status

    print(suite_status(_load(args)))
    return 0


def _report(args) -> int:
    from bench.report.write import ReportRequest, write_report

    request = ReportRequest(
        latex=args.latex, metrics=tuple(args.metrics or ()) or None, sort=args.sort
    )
    for path in write_report(_load(args), request=request):
        print(f"wrote {path}")
    return 0


def _compare(args) -> int:
    from bench import stats
    from bench.store.scores import scores_for

    scores = scores_for(args.suite, profile=args.profile)
    rows = stats.compare_levels(
        scores,
        metric=args.metric,
        factor=args.factor,
        baseline=args.baseline,
        test=args.test,
        rope=args.rope,
        adjust={"fdr_bh": "bh"}.get(args.adjust, args.adjust),
    )
    render = {
        "markdown": stats.comparisons_to_markdown,
        "csv": stats.comparisons_to_csv,
        "json": stats.comparisons_to_json,
    }[args.format]
    print(render(rows))
    return 0


def _import(args) -> int:
    from bench.store.imports import import_csv

    path, count = import_csv(args.csv, suite=args.suite)
    print(
        f"imported {count} rows into {path}; compare with "
        f"`bench compare {args.suite} --metric M --factor F --baseline LEVEL`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
