"""``research sweep --search``: the rungs, the metric, refusals, and a tiny Optuna search on Ray."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from research.cli import main, sweep_parser
from research.rows import iso_time
from research.runs import RunSpec
from research.search import full_span, make_plan, summary
from research.search_plan import (
    UNDEFINED,
    WINDOW_SECONDS,
    Rung,
    SearchPlan,
    make_rungs,
    metric_value,
)
from tests.backtest.backtest_builders import START, random_bars, write_csv

DAY = 86_400
HOUR = 3_600


def test_rungs_are_growing_prefixes_a_ninth_a_third_and_all_of_the_span() -> None:
    rungs = make_rungs(START, START + 27 * DAY, given_end=START + 27 * DAY)
    assert [r.t for r in rungs] == [1, 3, 9]
    assert [r.end for r in rungs] == [START + 3 * DAY, START + 9 * DAY, START + 27 * DAY]
    assert [r.days for r in rungs] == [3.0, 9.0, 27.0]


def test_the_last_rung_is_the_span_as_given_so_its_run_is_the_grids_own() -> None:
    rungs = make_rungs(START, START + 10 * DAY + 123, given_end=None)
    assert rungs[-1].end is None  # --to not given: the same RunSpec (and run id) as the grid's
    assert all(r.end is not None and r.end % WINDOW_SECONDS == 0 for r in rungs[:-1])


def test_no_rung_is_shorter_than_the_minimum() -> None:
    assert [r.t for r in make_rungs(START, START + 2 * DAY, given_end=None)] == [1]
    assert [r.t for r in make_rungs(START, START + 5 * DAY, given_end=None)] == [1, 3]
    short = make_rungs(START, START + 6 * HOUR, given_end=None, min_seconds=2 * HOUR)
    assert [(r.t, r.end) for r in short] == [(1, START + 2 * HOUR), (3, None)]


def test_asha_milestones_are_exactly_the_rungs() -> None:
    pytest.importorskip("ray.tune")
    from research.tune import scheduler

    spec = RunSpec((), 0, ("x.csv",), START, START + 27 * DAY)
    rungs = make_rungs(START, START + 27 * DAY, given_end=START + 27 * DAY)
    plan = SearchPlan(spec, (), (("k", ("1", "2")),), (0,), rungs, "pnl")
    milestones = sorted(m for m, _ in scheduler(plan)._brackets[0]._rungs)
    assert milestones == [r.t for r in rungs]


def test_metric_is_the_seeds_mean_and_a_failed_or_undefined_run_ranks_last() -> None:
    ok = {"status": "ok", "pnl": "-12.50", "sharpe": 1.5, "edge_realized": None}
    other = {"status": "ok", "pnl": "22.50", "sharpe": 0.5, "edge_realized": 2.0}
    assert metric_value([ok, other], "pnl") == 5.0
    assert metric_value([ok, other], "sharpe") == 1.0
    assert metric_value([ok, other], "edge_realized") == UNDEFINED
    assert metric_value([{"status": "failed", "pnl": None}, other], "pnl") == UNDEFINED


def test_runs_of_a_trial_fix_the_single_values_and_vary_only_the_seed() -> None:
    spec = RunSpec((), 0, ("x.csv",), START, START + 9 * DAY)
    plan = SearchPlan(
        spec,
        (("market.preset", "sharp"),),
        (("kelly_volatility.min_edge", ("0.02", "0.05")),),
        (0, 1),
        (Rung(1, START + DAY, 1.0), Rung(3, None, 9.0)),
        "pnl",
    )
    first, second = plan.runs({"kelly_volatility.min_edge": "0.05"}, plan.rungs[0])
    assert first.params == (("kelly_volatility.min_edge", "0.05"), ("market.preset", "sharp"))
    assert (first.seed, second.seed, first.end) == (0, 1, START + DAY)
    assert plan.runs({"kelly_volatility.min_edge": "0.05"}, plan.rungs[1])[0].end == spec.end


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """An hour of warm-up and six hours to trade: 24 windows."""
    return write_csv(tmp_path / "sol.csv", random_bars(7 * 60, seed=3))


def _sweep(history: Path, out: Path, *extra: str) -> list[str]:
    return [
        "sweep",
        "--data",
        str(history),
        "--param",
        "kelly_volatility.min_edge=0.01,0.02,0.03,0.05",
        "--out",
        str(out),
        *extra,
    ]


def test_an_unknown_search_is_refused_naming_the_flag(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_sweep(history, tmp_path / "out", "--search", "grid")) == 2
    err = capsys.readouterr().err
    assert "--search" in err
    assert "optuna" in err
    assert not (tmp_path / "out").exists()


def test_a_missing_search_package_is_refused_naming_it(
    history: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hyperopt", None)  # as if it were not installed
    assert main(_sweep(history, tmp_path / "out", "--search", "hyperopt")) == 2
    err = capsys.readouterr().err
    assert "hyperopt package" in err
    assert "requirements-research.txt" in err


def test_a_search_with_nothing_to_choose_is_refused(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sweep", "--data", str(history), "--param", "kelly_volatility.min_edge=0.02"]
    assert main([*argv, "--out", str(tmp_path / "o"), "--search", "optuna"]) == 2
    assert "two or more values" in capsys.readouterr().err


def test_every_run_id_is_hashed_on_the_driver_so_nodes_need_no_data_files(
    history: Path, tmp_path: Path
) -> None:
    argv = _sweep(history, tmp_path / "out", "--search", "optuna", "--seeds", "2")
    plan = make_plan(sweep_parser().parse_args([*argv[1:], "--min-rung-hours", "2"]))
    expected = {
        (run, run.run_id())
        for value in ("0.01", "0.02", "0.03", "0.05")
        for rung in plan.rungs
        for run in plan.runs({"kelly_volatility.min_edge": value}, rung)
    }
    history.unlink()  # as on a cluster node: the ids must not need the file any more
    assert {(run, plan.run_id(run)) for run, _ in expected} == expected
    assert len(expected) == 4 * 2 * 2  # points × rungs × seeds


@pytest.mark.slow
def test_a_tiny_optuna_search_on_ray_writes_its_rows_and_respects_samples(
    history: Path, tmp_path: Path
) -> None:
    pytest.importorskip("optuna")
    pytest.importorskip("ray.tune")
    out = tmp_path / "out"
    extra = ("--search", "optuna", "--samples", "5", "--min-rung-hours", "2")
    assert main(_sweep(history, out, "--ray", "--workers", "2", *extra)) == 0

    with (out / "search.csv").open(encoding="utf-8") as handle:
        log = list(csv.DictReader(handle))
    with (out / "results.csv").open(encoding="utf-8") as handle:
        rows = {row["run_id"]: row for row in csv.DictReader(handle)}
    assert len({entry["trial"] for entry in log}) == 5  # --samples 5: five trials, no more
    assert {entry["t"] for entry in log} <= {"1", "3"}  # 6 h with 2-h rungs: two rungs
    assert any(entry["t"] == "3" for entry in log)  # ASHA lets the first at a rung through
    reported = {run_id for entry in log for run_id in entry["run_ids"].split(";")}
    assert reported == set(rows)  # every rung's rows, once each, in the one table
    assert all(row["status"] == "ok" for row in rows.values())
    values = {row["param.kelly_volatility.min_edge"] for row in rows.values()}
    assert values <= {"0.01", "0.02", "0.03", "0.05"}
    ends = {row["end"] for row in rows.values()}
    assert len(ends) == 2  # the two-hour prefix and the whole span
    whole = ""  # no --to: the whole span's runs are the grid's own, with no end of their own
    assert whole in ends
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Parameter search" in page and "stopped at an earlier rung" in page
    reported_runs = json.loads((out / "summary.json").read_text(encoding="utf-8"))["runs"]
    assert reported_runs == sum(1 for row in rows.values() if row["end"] == whole) > 0


def test_the_search_report_keeps_only_the_runs_over_the_whole_span() -> None:
    spec = RunSpec((), 0, ("x.csv",), START, START + 9 * DAY)
    rungs = (Rung(1, START + DAY, 1.0), Rung(3, None, 9.0))
    plan = SearchPlan(spec, (), (("k", ("1", "2")),), (0,), rungs, "sharpe")
    whole = {"start": iso_time(START), "end": iso_time(START + 9 * DAY), "run_id": "w"}
    prefix = {**whole, "end": iso_time(START + DAY), "run_id": "p"}
    other_span = {**whole, "start": iso_time(START + DAY), "run_id": "o"}  # an older sweep's
    assert full_span([whole, prefix, other_span], plan) == [whole]


def test_a_search_heat_map_on_a_key_it_does_not_choose_is_refused_before_ray(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("optuna")
    argv = _sweep(history, tmp_path / "out", "--search", "optuna", "--heatmap", "a,b")
    assert main(argv) == 2
    assert "--heatmap 'a'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything ran or was written


def test_the_summary_counts_stopped_trials_and_names_the_best_full_span_point() -> None:
    spec = RunSpec((), 0, ("x.csv",), START, START + 9 * DAY)
    rungs = (Rung(1, START + DAY, 1.0), Rung(3, None, 9.0))
    plan = SearchPlan(spec, (), (("k", ("1", "2", "3")),), (0,), rungs, "sharpe")
    log = [
        {"trial": "a", "t": 1, "metric": 0.5, "param.k": "1"},
        {"trial": "b", "t": 1, "metric": -0.2, "param.k": "2"},  # stopped at the first rung
        {"trial": "a", "t": 3, "metric": 0.25, "param.k": "1"},
        {"trial": "c", "t": 1, "metric": 0.1, "param.k": "3"},
        {"trial": "c", "t": 3, "metric": UNDEFINED, "param.k": "3"},
    ]
    assert summary(log, plan) == (
        "3 trials, 1 stopped early; best over the whole span: sharpe 0.25 at param.k=1"
    )
    assert "no trial's runs define sharpe" in summary(log[-1:], plan)
