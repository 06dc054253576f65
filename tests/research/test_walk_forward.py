"""Walk-forward planning and selection, with a fake evaluator standing in for backtests."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from research.cli import main
from research.runs import RunSpec
from research.walk_forward import (
    Fold,
    WalkForwardInputError,
    parse_span,
    plan_folds,
    select,
    walk_forward,
)
from tests.research.wf_builders import DAY, FakeEvaluator, base_runs, row

TRAIN, TEST = 14 * DAY, 7 * DAY


def test_spans_parse_days_hours_and_weeks() -> None:
    assert parse_span("14d", "--train") == 14 * DAY
    assert parse_span("36h", "--test") == 36 * 3600
    assert parse_span("2W", "--step") == 14 * DAY


@pytest.mark.parametrize("text", ["14", "0d", "d", "3m", "-2d"])
def test_a_bad_span_is_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(WalkForwardInputError, match="--train"):
        parse_span(text, "--train")


def test_a_span_of_exactly_one_fold_gives_one_fold() -> None:
    assert plan_folds(0, TRAIN + TEST, TRAIN, TEST) == [Fold(0, 0, TRAIN, TRAIN, TRAIN + TEST)]


def test_a_span_too_short_for_one_fold_is_refused_with_what_it_needs() -> None:
    with pytest.raises(WalkForwardInputError) as error:
        plan_folds(0, TRAIN + TEST - 1, TRAIN, TEST)
    message = str(error.value)
    assert "--train 14 days + --test 7 days = 21 days" in message
    assert "--from/--to" in message


def test_folds_roll_by_one_test_span_so_test_spans_tile_and_stay_inside() -> None:
    end = TRAIN + 3 * TEST + DAY  # room for three folds, a day to spare
    folds = plan_folds(0, end, TRAIN, TEST)
    assert len(folds) == 3
    for before, after in itertools.pairwise(folds):
        assert after.test_start == before.test_end
        assert after.train_start == before.train_start + TEST
    for fold in folds:
        assert fold.train_end == fold.test_start
        assert fold.test_end - fold.test_start == TEST
    assert folds[-1].test_end <= end


def test_a_custom_step_and_a_bad_step() -> None:
    folds = plan_folds(0, TRAIN + TEST + 2 * DAY, TRAIN, TEST, step=DAY)
    assert [f.train_start for f in folds] == [0, DAY, 2 * DAY]
    with pytest.raises(WalkForwardInputError, match="--step"):
        plan_folds(0, 10 * TRAIN, TRAIN, TEST, step=0)


def _rigged(run: RunSpec) -> dict[str, object]:
    """Config 'a' shines on 14-day (training) spans and loses on 7-day (test) spans;
    'b' the other way round. Choosing on test data would pick 'b'."""
    training = (run.end or 0) - (run.start or 0) == TRAIN
    value = dict(run.params)["min_edge"]
    good = (value == "a") == training
    return row(run, 100.0 if good else -50.0, 3.0 if good else -1.0)


def test_selection_uses_only_the_training_rows() -> None:
    fake = FakeEvaluator(_rigged)
    folds = plan_folds(0, TRAIN + 2 * TEST, TRAIN, TEST)
    result = walk_forward(base_runs(["a", "b"], seeds=2), folds, fake)
    assert [f.chosen for f in result.folds] == [(("min_edge", "a"),)] * 2
    for fold in result.folds:
        assert fold.in_sample is not None and fold.out_of_sample is not None
        assert fold.in_sample.pnl == Decimal("100.00")
        assert fold.out_of_sample.pnl == Decimal("-50.00")
    train_batch, test_batch = fake.batches
    assert fake.phases == ["in_sample", "out_of_sample"]
    assert {r.end - r.start for r in train_batch if r.start is not None and r.end} == {TRAIN}
    assert len(train_batch) == 2 * 2 * 2  # folds × configs × seeds
    # only the pick runs out of sample, on each fold's test span, every seed
    assert {r.params for r in test_batch} == {(("min_edge", "a"),)}
    assert sorted((r.start, r.end) for r in test_batch) == sorted(
        (f.test_start, f.test_end) for f in folds for _ in range(2)
    )


def test_the_aggregate_sums_test_pnl_and_combines_intervals_in_quadrature() -> None:
    folds = plan_folds(0, TRAIN + 2 * TEST, TRAIN, TEST)
    result = walk_forward(base_runs(["a", "b"]), folds, FakeEvaluator(_rigged))
    oos = result.out_of_sample
    assert oos is not None
    assert oos.pnl == Decimal("-100.00")
    half = Decimal(str(round(10 * math.sqrt(2), 2)))
    assert oos.pnl_low == Decimal("-100.00") - half
    assert oos.pnl_high == Decimal("-100.00") + half
    assert oos.days == 14
    assert oos.sharpe is not None and oos.sharpe < 0
    assert oos.psr is not None and oos.psr < 0.5


def test_each_pick_has_a_deflated_sharpe_over_the_configurations_tried() -> None:
    folds = plan_folds(0, TRAIN + TEST, TRAIN, TEST)
    result = walk_forward(base_runs(["a", "b", "c"]), folds, FakeEvaluator(_rigged))
    deflated = result.folds[0].deflated
    assert deflated is not None and deflated.dsr is not None
    assert deflated.trials == 3
    assert deflated.trials_variance > 0
    assert deflated.psr is not None
    assert deflated.dsr < deflated.psr  # choosing the best of three costs something


def test_a_fold_whose_training_runs_all_failed_chooses_nothing_and_runs_no_test() -> None:
    def broken(run: RunSpec) -> dict[str, object]:
        return {"run_id": run.run_id(), "status": "failed", "error": "boom"}

    fake = FakeEvaluator(broken)
    result = walk_forward(base_runs(["a"]), plan_folds(0, TRAIN + TEST, TRAIN, TEST), fake)
    assert result.folds[0].chosen is None
    assert result.out_of_sample is None
    assert fake.batches[1] == []


def test_ties_go_to_the_grid_order_and_unscored_configs_never_win() -> None:
    runs = base_runs(["x", "y", "z"])
    rows = {r.params: [row(r, 5.0, 1.0)] for r in runs}
    rows[runs[2].params] = [row(runs[2], 9.0, None)]
    assert select(rows, "sharpe") == runs[0].params
    assert select(rows, "pnl") == runs[2].params


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(WalkForwardInputError, match="--select"):
        walk_forward(base_runs(["a"]), [], FakeEvaluator(_rigged), metric="luck")


def test_sharpe_selection_refuses_a_training_span_shorter_than_two_days() -> None:
    folds = plan_folds(0, 3 * DAY, DAY, DAY)
    with pytest.raises(WalkForwardInputError, match="--train span of at least 2d"):
        walk_forward(base_runs(["a"]), folds, FakeEvaluator(_rigged))
    assert walk_forward(base_runs(["a"]), folds, FakeEvaluator(_rigged), metric="pnl").folds


def test_a_test_run_identical_to_a_training_run_is_not_run_twice() -> None:
    fake = FakeEvaluator(_rigged)
    folds = plan_folds(0, 3 * DAY, DAY, DAY)  # fold 0 tests on fold 1's training day
    result = walk_forward(base_runs(["a", "b"]), folds, fake, metric="pnl")
    _, test_batch = fake.batches
    assert [(r.start, r.end) for r in test_batch] == [(2 * DAY, 3 * DAY)]
    assert all(f.out_of_sample is not None and f.out_of_sample.runs == 1 for f in result.folds)


SOL = Path("/work/shared/data/sol/benicio1007-bot_trading/dataset/marzo_2025/SOLUSDT_1m.csv")


@pytest.mark.slow
@pytest.mark.skipif(not SOL.is_file(), reason="the SOL history (../shared/data/sol) is absent")
def test_a_real_walk_forward_on_sol_history_writes_the_in_and_out_of_sample_report(
    tmp_path: Path,
) -> None:
    """Two 6-hour folds, two configurations, one seed, two plain worker processes."""
    code = main(
        [
            "walk-forward", "--data", str(SOL), "--from", "2025-03-02T00:00", "--to", "2025-03-02T18:00",
            "--train", "6h", "--test", "6h", "--select", "pnl",
            "--param", "min_edge=0.03,0.08", "--seeds", "1", "--workers", "2",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0
    page = (tmp_path / "report.html").read_text()
    assert "In-sample vs out-of-sample, fold by fold" in page
    assert "Measured against simulated sharp makers" in page
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())
    assert [f["test"] for f in summary["folds"]] == [
        ["2025-03-02 06:00", "2025-03-02 12:00"],
        ["2025-03-02 12:00", "2025-03-02 18:00"],
    ]
    for fold in summary["folds"]:
        assert fold["chosen"]["min_edge"] in ("0.03", "0.08")
        assert fold["out_of_sample"]["failed"] == 0
        assert fold["in_sample"]["pnl_low"] is not None
    oos = summary["out_of_sample"]
    assert oos["runs"] == 2
    assert Decimal(oos["pnl_low"]) <= Decimal(oos["pnl"]) <= Decimal(oos["pnl_high"])
    assert (tmp_path / "in_sample" / "results.csv").is_file()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--train", "14d", "--test", "7d"], "one fold needs --train 14 days + --test 7 days"),
        (["--train", "fortnight"], "--train 'fortnight'"),
        (["--train", "1d", "--test", "1d"], "--select sharpe needs a --train span of at least 2d"),
        (
            ["--train", "2d", "--test", "1d", "--heatmap", "min_edge,oops"],
            "--heatmap 'oops' is not a swept",
        ),
    ],
)
def test_the_command_refuses_bad_input_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    data = tmp_path / "bars.csv"
    data.write_text("timestamp,open,high,low,close,volume\\n")
    out = tmp_path / "out"
    argv = ["walk-forward", "--data", str(data), "--from", "2025-03-01", "--to", "2025-03-07"]
    code = main([*argv, "--param", "min_edge=0.03,0.05", "--out", str(out), *flags])
    assert code == 2
    assert named in capsys.readouterr().err
    assert not out.exists()
