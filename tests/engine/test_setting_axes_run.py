"""Setting axes end to end: each cell trains with its own value, shared stages once per value
that reaches them."""

from __future__ import annotations

import pytest

from bench.config import load_suite
from bench.engine.coordinator import RunOptions, run_suite
from bench.store.db import Store

AXES = '"suite.image_size" = [16, 24]\n"train.epochs" = [1, 2]'


def test_cells_train_at_their_image_size_and_for_their_epochs(write_suite):
    path = write_suite(
        replace={
            'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
            'strategy = ["scratch", "ctl"]': f'strategy = ["scratch", "ctl"]\n{AXES}',
        }
    )
    suite = load_suite(path)
    summary = run_suite(suite, options=RunOptions(progress=False))
    assert summary.failed == [] and summary.folds_trained == 2 * 2 * 2 * 3
    # ctl's pretraining: once per image size (it reads suite.image_size, not train.epochs)
    assert summary.stages_trained == 2
    store = Store(suite.store_path)
    try:
        rows = store.db.execute(
            "SELECT r.cell, COUNT(DISTINCT h.epoch), MAX(c.value) FROM fold_results r "
            "JOIN histories h ON h.job = r.job AND h.metric = 'loss' "
            "JOIN costs c ON c.job = r.job AND c.name = 'flops' GROUP BY r.job"
        ).fetchall()
    finally:
        store.close()
    assert len(rows) == 24
    flops = {}
    for cell, epochs, cost in rows:
        levels = dict(part.split("=") for part in cell.split("|"))
        assert epochs == int(levels["train.epochs"]), cell  # patience 2: no early stop
        flops.setdefault(levels["suite.image_size"], set()).add(cost)
    # the model's input is the cell's image size: 24 px costs (24/16)^2 the 16 px FLOPs
    (small,), (large,) = flops["16"], flops["24"]
    assert large / small == pytest.approx(2.25, rel=0.05)
