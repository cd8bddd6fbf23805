"""The Python API: run a suite, write its report, and read its results as pandas DataFrames.

    import bench
    summary = bench.run("suites/ultrasound.toml", jobs=2)
    results = bench.load("suites/ultrasound.toml")
    results.cells()                                   # the report's leaderboard, as a frame
    results.compare("auc", factor="strategy", baseline="scratch")

The ``bench`` command calls these functions; every mistake raises a
:class:`~bench.errors.BenchError` subclass, whose message names the file or key and the fix.
Frames are tidy: one row per observation (a fold, a sample, an epoch of a stage, a cell).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bench.config.spec import Suite
from bench.errors import BenchError

if TYPE_CHECKING:
    import pandas as pd

    from bench.engine.coordinator import RunSummary
    from bench.report.inputs import ReportInputs
    from bench.report.target import ReportTarget
    from bench.store.db import FoldRecord

TUNED = "tuned_"  # prefix of the tuned hyperparameter columns of Results.folds()


def run(
    suite: str | Path | Suite,
    *,
    profile: str | None = None,
    jobs: int | None = None,
    executor: str | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    max_jobs_per_worker: int = 50,
    retry_failed: bool = False,
    fail_fast: bool = False,
    reuse: bool = True,
    progress: bool = True,
    verbose: bool = False,
    wait: bool = False,
    on_fold: Callable[[FoldRecord], None] | None = None,
) -> RunSummary:
    """Train every job of ``suite`` not stored yet (as ``bench run``); return the summary.

    ``jobs`` > 1 trains in local worker processes; ``executor="dask"`` with ``scheduler``
    on a cluster. A rerun resumes: stored jobs are skipped. ``on_fold`` is called in this
    process with each fold result once it is stored (``bench run`` passes an MLflow
    :class:`~bench.tracking.mlflow_runs.LiveLog` there when the suite has ``[tracking]``).
    """
    from bench.engine.coordinator import RunOptions, run_suite
    from bench.engine.executors import ExecutorSpec

    options = RunOptions(
        retry_failed=retry_failed,
        fail_fast=fail_fast,
        reuse=reuse,
        progress=progress,
        verbose=verbose,
        executor=ExecutorSpec(
            kind=executor,
            jobs=jobs,
            threads=threads,
            max_jobs_per_worker=max_jobs_per_worker,
            scheduler=scheduler,
        ),
        wait=wait,
        on_fold=on_fold,
    )
    return run_suite(_suite(suite, profile), options=options)


def report(
    suite: str | Path | Suite,
    *,
    profile: str | None = None,
    latex: bool = False,
    html: bool = False,
    metrics: Sequence[str] | None = None,
    sort: str | None = None,
    baseline: str | None = None,
) -> list[Path]:
    """Write the report of a suite (or a results name) as ``bench report``; return its files."""
    from bench.report.write import ReportRequest, write_report

    request = ReportRequest(
        latex=latex,
        html=html,
        metrics=tuple(metrics) if metrics else None,
        sort=sort,
        baseline=baseline,
    )
    return write_report(_target(suite, profile), request=request)


def load(suite: str | Path | Suite, *, profile: str | None = None) -> Results:
    """The stored results of a suite file, a loaded suite, or a results name (``results/X``)."""
    from bench.report.inputs import load_inputs

    target = _target(suite, profile)
    if not target.store_path.is_file():
        raise BenchError(f"{target.store_path}: {target.hint}")
    inputs = load_inputs(
        target.store_path, suite_hash=target.suite_hash, profile=target.profile, sample=False
    )
    return Results(target=target, inputs=inputs)


@dataclass(frozen=True)
class Results:
    """One suite's stored results (one hash and profile), read once; methods return frames."""

    target: ReportTarget
    inputs: ReportInputs

    @property
    def factors(self) -> tuple[str, ...]:
        """The grid factors, the column names every frame carries for its cell's levels."""
        from bench.report.leaderboard import resolve_factors

        given = self.target.factors
        return given if given is not None else resolve_factors(self.inputs.scores, None)

    def folds(self) -> pd.DataFrame:
        """One row per (cell, repeat, fold): levels, n_train, n_test, every metric, the
        threshold, tuned values (``tuned_<name>``) and the model's cost measures."""
        table = self._fold_meta().merge(self.inputs.scores, on=["cell", "repeat", "fold"])
        table = table.merge(self.inputs.costs, on="job", how="left")
        table.attrs["factors"] = list(self.factors)
        return table

    def predictions(self) -> pd.DataFrame:
        """One row per out-of-fold test sample: cell, levels, repeat, fold, sample, y_true,
        and ``proba_<class>`` per class."""
        import pandas as pd

        frames = []
        for job, fold in self.inputs.predictions.items():
            columns = {
                f"proba_{name}": fold.proba[:, k] for k, name in enumerate(self._classes(fold))
            }
            frames.append(
                pd.DataFrame({"job": job, "sample": fold.samples, "y_true": fold.y_true}).assign(
                    **columns
                )
            )
        if not frames:
            return pd.DataFrame(columns=["job", "sample", "y_true"])
        return self._with_cells(pd.concat(frames, ignore_index=True))

    def histories(self) -> pd.DataFrame:
        """One row per (job, stage, epoch, metric): the training curves of every fold
        (with its cell and levels) and of every shared stage (cell empty)."""
        histories = self.inputs.histories
        jobs = self.inputs.jobs[["job", "kind", "label"]]
        table = jobs.merge(histories, on="job")
        return self._with_cells(table, how="left")

    def cells(self) -> pd.DataFrame:
        """The report's leaderboard: one row per cell, best first, with rank, n, mean and sd
        of each report metric (``<metric>_mean``, ``<metric>_sd``) and the mean cost."""
        import pandas as pd

        from bench.report.cost import cell_costs

        board = self._board
        rows = []
        for row in board.rows:
            record = {"rank": row.rank, "cell": row.cell, **dict(zip(board.factors, row.levels))}
            record |= {"n": row.n, "repeats": row.repeats}
            for metric in board.metrics:
                record[f"{metric}_mean"] = row.scores[metric].mean
                record[f"{metric}_sd"] = row.scores[metric].sd
            rows.append(record)
        table = pd.DataFrame(rows)
        costs = cell_costs(self.inputs)
        if not costs.empty:
            table = table.merge(costs, on="cell", how="left")
        return table

    def compare(
        self,
        metric: str,
        *,
        factor: str = "strategy",
        baseline: str | None = None,
        test: str | None = None,
        adjust: str = "holm",
        rope: float = 0.01,
    ) -> pd.DataFrame:
        """Each level of ``factor`` against ``baseline`` on ``metric``: one row per level.

        ``test`` None chooses as the report does: the grid-level corrected t-test when
        every cell has fold scores, else the paired t-test on cell means; Holm-adjusted.
        ``baseline`` None is the suite's ``[report] baseline``.
        """
        import pandas as pd

        from bench import stats
        from bench.report.significance import has_folds

        baseline = baseline or self.target.baseline
        if baseline is None:
            raise BenchError("compare needs baseline=LEVEL (the suite sets no [report] baseline)")
        scores = self.inputs.scores
        test = test or ("corrected_t" if has_folds(scores) else "paired_t")
        rows = stats.compare_levels(
            scores,
            metric=metric,
            factor=factor,
            baseline=baseline,
            test=test,
            adjust=adjust,
            rope=rope,
            factors=list(self.factors),
        )
        return pd.DataFrame(stats.comparisons_to_records(rows))

    def plan(self) -> pd.DataFrame:
        """Every planned job: job, kind ("stage"/"fold"), label, cell, levels, status (None
        when never run), run_id, duration in seconds."""
        return self._with_cells(self.inputs.jobs.drop(columns="cell"), how="left")

    # ------------------------------------------------------------------------------------
    @cached_property
    def _board(self):
        from bench.report.leaderboard import build_leaderboard

        return build_leaderboard(
            self.inputs.scores,
            metrics=self.target.metrics,
            sort=self.target.sort,
            factors=self.factors,
        )

    def _classes(self, fold) -> list[str]:
        classes = self.target.classes
        k = fold.proba.shape[1]
        return list(classes) if classes and len(classes) == k else [str(i) for i in range(k)]

    def _fold_meta(self) -> pd.DataFrame:
        """job, cell, repeat, fold, threshold and tuned values of every fold result."""
        import pandas as pd

        folds = self.inputs.folds
        tuned = pd.DataFrame(list(folds["params"]), index=folds.index).add_prefix(TUNED)
        return pd.concat([folds.drop(columns="params"), tuned], axis=1)

    def _with_cells(self, table: pd.DataFrame, *, how: str = "inner") -> pd.DataFrame:
        """``table`` (with a job column) with each fold job's cell, levels, repeat and fold."""
        meta = self.inputs.folds[["job", "cell", "repeat", "fold"]]
        levels = self.inputs.scores.drop_duplicates("cell")[["cell", *self.factors]]
        return table.merge(meta.merge(levels, on="cell"), on="job", how=how)


def _suite(suite: str | Path | Suite, profile: str | None) -> Suite:
    if isinstance(suite, Suite):
        return suite
    from bench.config import load_suite

    return load_suite(suite, profile=profile)


def _target(suite: str | Path | Suite, profile: str | None) -> ReportTarget:
    from bench.config import load_suite
    from bench.report.target import resolve_target, target_from_suite

    if isinstance(suite, str | Path) and str(suite).endswith(".toml"):
        suite = load_suite(suite, profile=profile)
    if not isinstance(suite, Suite):
        return resolve_target(str(suite), profile=profile)
    target = target_from_suite(suite)
    if suite.card is None:
        return target
    from bench.engine.conformance import check_conformance

    return replace(target, protocol_check=check_conformance(suite).report(suite))


__all__ = ["Results", "load", "report", "run"]
