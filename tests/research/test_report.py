"""report.html and summary.json: the sections are there and the numbers are the rows'."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from research.cli import main
from research.report import heatmap_keys, write_sweep_report, write_walk_forward_report
from research.runs import RunSpec
from research.walk_forward import WalkForwardInputError, plan_folds, walk_forward
from tests.research.sweep_helpers import FIXED, GRID, tiny_csv
from tests.research.wf_builders import DATA, DAY, FakeEvaluator, row


def _grid_rows() -> list[dict[str, object]]:
    """min_edge × lag, two seeds; the P&L rises with min_edge, the Sharpe with both."""
    rows = []
    for edge in ("0.03", "0.05"):
        for lag in ("0", "5", "10"):
            for seed in (0, 1):
                run = RunSpec(
                    params=(("market.lag_seconds", lag), ("min_edge", edge)),
                    seed=seed,
                    data=DATA,
                    start=0,
                    end=7 * DAY,
                )
                pnl = float(edge) * 1000 + seed
                rows.append(row(run, pnl, float(edge) * 10 + int(lag) / 10))
    rows.append(
        {
            "run_id": "broken",
            "status": "failed",
            "error": "boom",
            "param.min_edge": "0.03",
            "param.market.lag_seconds": "0",
        }
    )
    return rows


def test_a_sweep_report_has_heat_map_best_configs_dsr_and_assumptions(tmp_path: Path) -> None:
    page = write_sweep_report(tmp_path, _grid_rows()).read_text()
    assert "Heat map: market.lag_seconds × min_edge" in page
    assert page.count("data:image/png;base64,") == 1
    assert "Best configurations by mean sharpe" in page
    assert "market.lag_seconds=10, min_edge=0.05" in page
    assert "50.50 [40.50, 60.50]" in page  # mean P&L over the seeds with its interval
    assert "Deflated Sharpe ratio" in page and "Bailey &amp; López de Prado" in page
    assert "Measured against simulated sharp makers" in page
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())
    assert summary["kind"] == "sweep"
    assert summary["configurations"] == 6
    assert summary["failed"] == 1
    assert summary["best"][0]["params"] == {"market.lag_seconds": "10", "min_edge": "0.05"}
    assert summary["best"][0]["pnl"] == "50.50"
    assert summary["deflated_sharpe"]["trials"] == 6
    assert 0.0 <= summary["deflated_sharpe"]["dsr"] <= 1.0


def test_heat_map_keys_are_checked_against_the_swept_ones() -> None:
    rows = _grid_rows()
    assert heatmap_keys(rows, "min_edge,market.lag_seconds") == ("min_edge", "market.lag_seconds")
    with pytest.raises(WalkForwardInputError, match="--heatmap 'kelly'"):
        heatmap_keys(rows, "min_edge,kelly")
    with pytest.raises(WalkForwardInputError, match="two different keys"):
        heatmap_keys(rows, "min_edge")


def test_one_swept_key_gives_a_page_without_a_heat_map(tmp_path: Path) -> None:
    rows = [r for r in _grid_rows() if r.get("param.market.lag_seconds") == "0"]
    for r in rows:
        r.pop("param.market.lag_seconds")
    page = write_sweep_report(tmp_path, rows).read_text()
    assert "fewer than two parameters were swept" in page


def test_a_walk_forward_report_shows_folds_side_by_side_and_the_scatter(tmp_path: Path) -> None:
    def figures(run: RunSpec) -> dict[str, object]:
        span = (run.end or 0) - (run.start or 0)
        value = float(dict(run.params)["min_edge"])
        return row(run, value * (1000 if span == 14 * DAY else -500), value * 40 - span / DAY / 7)

    runs = [
        RunSpec(
            params=(("market.preset", "soft"), ("min_edge", v)),
            seed=0,
            data=DATA,
            start=None,
            end=None,
        )
        for v in ("0.03", "0.05")
    ]
    result = walk_forward(runs, plan_folds(0, 28 * DAY, 14 * DAY, 7 * DAY), FakeEvaluator(figures))
    page = write_walk_forward_report(tmp_path, result).read_text()
    assert "In-sample vs out-of-sample, fold by fold" in page
    assert "Every test span together" in page
    assert "Out-of-sample vs in-sample Sharpe" in page
    assert page.count("data:image/png;base64,") == 1  # the scatter; one swept key: no heat map
    assert "Measured against simulated soft makers" in page
    assert "50.00 [40.00, 60.00]" in page and "-25.00 [-35.00, -15.00]" in page
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())
    assert summary["kind"] == "walk-forward"
    assert len(summary["folds"]) == 2
    assert summary["folds"][0]["chosen"] == {"market.preset": "soft", "min_edge": "0.05"}
    assert summary["out_of_sample"]["pnl"] == "-50.00"
    assert summary["folds"][0]["deflated_sharpe"]["trials"] == 2


@pytest.mark.slow
def test_research_sweep_writes_the_report_beside_its_results(tmp_path: Path) -> None:
    """A tiny real sweep (4 points × 1 seed on 75 synthetic minutes) through the CLI."""
    data = tiny_csv(tmp_path / "data")
    params = [flag for text in (FIXED, *GRID) for flag in ("--param", text)]
    out = tmp_path / "sweep"
    argv = ["sweep", "--data", str(data), *params, "--seeds", "1", "--out", str(out)]
    assert main([*argv, "--heatmap", "exec.latency_seconds,min_edge"]) == 0
    page = (out / "report.html").read_text()
    assert "Heat map: exec.latency_seconds × min_edge" in page
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["runs"] == 4
    assert summary["heatmap"] == ["exec.latency_seconds", "min_edge"]
    assert summary["metric"] == "pnl"  # 75 minutes: no Sharpe, so ranked by P&L
    assert len(summary["best"]) == 4
    assert (out / "results.csv").is_file()
