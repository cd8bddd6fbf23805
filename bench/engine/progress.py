"""What ``bench run`` prints while it trains, on stderr.

- On a terminal: a progress bar (tqdm) with the job just finished.
- Anywhere else (a log file, CI, ``nohup``, a cluster job): one line per finished shared
  stage and per finished cell (all its fold jobs), each with the elapsed time and an
  estimate of the time left; never a carriage return.
- ``verbose``: also one line per fold job, above the bar on a terminal.
- ``quiet``: nothing.

The estimate of the time left assumes that the shared stages and the fold jobs still to
come take as long, on average, as those of their kind done so far (a pretraining stage
takes many fold jobs' time).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from bench.engine.plan import FoldJob, StageJob
from bench.report.stages import StageAccuracy

Job = StageJob | FoldJob


class Progress:
    """Counts finished jobs and cells; subclasses decide what to show."""

    def __init__(self, jobs: list[Job], *, stream: TextIO, verbose: bool = False):
        self.total = len(jobs)
        self.done = 0
        self.verbose = verbose
        self.stream = stream
        self.started = self._last = time.monotonic()
        self._kinds_left = Counter(type(job).__name__ for job in jobs)
        self._kinds_done: Counter[str] = Counter()
        self._kinds_seconds: Counter[str] = Counter()
        self._left = Counter(job.cell.id for job in jobs if isinstance(job, FoldJob))
        self._scores: dict[str, list[dict]] = {}

    def finished(
        self,
        job: Job,
        *,
        scores: dict | None = None,
        stage: StageAccuracy | None = None,
        error: str | None = None,
    ) -> None:
        """Record one finished (or failed, or blocked) job and show what it completed."""
        self.done += 1
        now, kind = time.monotonic(), type(job).__name__
        self._kinds_seconds[kind] += now - self._last
        self._kinds_done[kind] += 1
        self._kinds_left[kind] -= 1
        self._last = now
        lines = [self._job_line(job, scores=scores, stage=stage, error=error)]
        if isinstance(job, FoldJob):
            if scores is not None:
                self._scores.setdefault(job.cell.id, []).append(scores)
            self._left[job.cell.id] -= 1
            if self._left[job.cell.id] == 0:
                lines.append(self._cell_line(job.cell.id))
        self.show(job, lines)

    def show(self, job: Job, lines: list[str | None]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def clock(self) -> str:
        elapsed = time.monotonic() - self.started
        eta = "done" if self.done >= self.total else f"about {_duration(self.left())} left"
        return f"[{self.done}/{self.total} jobs, {_duration(elapsed)} elapsed, {eta}]"

    def left(self) -> float:
        """Seconds the jobs still to come should take; NaN before the first one finished."""
        if not self.done:
            return float("nan")
        overall = sum(self._kinds_seconds.values()) / self.done
        return sum(
            count
            * (
                self._kinds_seconds[kind] / self._kinds_done[kind]
                if self._kinds_done[kind]
                else overall
            )
            for kind, count in self._kinds_left.items()
        )

    def _job_line(self, job: Job, *, scores, stage, error) -> str | None:
        if isinstance(job, StageJob):
            outcome = stage.describe() if stage is not None else "trained"
            return f"stage {job.label}: {error or outcome}"
        if not self.verbose:
            return None
        return f"fold {job.label}: {error or _scores_text([scores] if scores else [])}"

    def _cell_line(self, cell: str) -> str:
        scores = self._scores.get(cell, [])
        return f"cell {cell}: {len(scores)} fold(s) stored, {_scores_text(scores)}"


class LineProgress(Progress):
    """Plain lines for logs: stages and cells (and folds when verbose)."""

    def show(self, job: Job, lines: list[str | None]) -> None:
        for line in filter(None, lines):
            print(f"{line} {self.clock()}", file=self.stream, flush=True)


class BarProgress(Progress):
    """A tqdm bar on a terminal; stage lines (and fold lines when verbose) printed above it."""

    def __init__(self, jobs: list[Job], *, stream: TextIO, verbose: bool = False):
        super().__init__(jobs, stream=stream, verbose=verbose)
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total,
            file=stream,
            unit="job",
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}",
        )

    def show(self, job: Job, lines: list[str | None]) -> None:
        for line in filter(None, lines if self.verbose else lines[:1]):
            self.bar.write(line, file=self.stream)
        self.bar.set_postfix_str(job.label, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class NoProgress(Progress):
    def show(self, job: Job, lines: list[str | None]) -> None:
        pass


def open_progress(
    jobs: list[Job], *, enabled: bool, verbose: bool = False, stream: TextIO | None = None
) -> Progress:
    """The progress display for ``jobs``: none, a bar on a terminal, or lines elsewhere."""
    stream = stream or sys.stderr
    if not enabled:
        return NoProgress(jobs, stream=stream)
    kind = BarProgress if stream.isatty() else LineProgress
    return kind(jobs, stream=stream, verbose=verbose)


def _scores_text(scores: list[dict]) -> str:
    if not scores:
        return "no scores"
    names = [name for name in ("auc", "accuracy") if name in scores[0]]
    return ", ".join(f"{name} {sum(s[name] for s in scores) / len(scores):.3f}" for name in names)


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing finished yet
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
