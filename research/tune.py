"""``research sweep --search optuna|hyperopt``: a Ray Tune search with early stopping.

Each trial is one parameter point picked by the search (Optuna's or Hyperopt's
TPE) from the values ``--param`` lists. It runs the point's backtests with
:func:`research.execute.execute_run` rung by rung — growing prefixes of the span,
see :mod:`research.search_plan` for why — and reports the chosen metric at each
rung, where ASHA stops the trials in the bottom two thirds. Every run's row is
sent back with the report and written on the driver into the same results table
as a grid sweep (:class:`research.results.ResultStore`), so resuming works the
same way and the workers never write to the output folder.

Imports Ray at once: :mod:`research.search` imports this module only for ``--search``,
after refusing by name a missing package, so the plain grid never needs Ray.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
from ray import tune

from research.execute import Loaded, execute_run
from research.rows import OK, Row
from research.search_plan import ETA, SearchPlan, metric_value


class RowCache:
    """Finished rows shared by every trial (a Ray actor): a point TPE picks twice runs once."""

    def __init__(self, rows: Mapping[str, Row]) -> None:
        self.rows = {run_id: row for run_id, row in rows.items() if row.get("status") == OK}

    def get(self, run_id: str) -> Row | None:
        return self.rows.get(run_id)

    def put(self, row: Row) -> None:
        if row.get("status") == OK:
            self.rows[str(row["run_id"])] = row


NO_LOGGERS = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"


def trial(config: dict[str, str], *, plan: SearchPlan, cache: Any, loaded: Loaded | None) -> None:
    """One Tune trial: the point's runs rung by rung, each rung's metric reported.

    ``cache``: the :class:`RowCache` actor (earlier sweeps' rows and this search's);
    ``loaded``: the history, parsed once on the driver and shipped by the object store.
    """
    import ray

    for rung in plan.rungs:
        rows = []
        for run in plan.runs(config, rung):
            run_id = plan.run_id(run)
            row = ray.get(cache.get.remote(run_id))
            if row is None:
                row = execute_run(run, loaded=loaded, run_id=run_id)
                cache.put.remote(row)
            rows.append(row)
        tune.report(
            {
                "t": rung.t,
                "days": rung.days,
                plan.metric: metric_value(rows, plan.column),
                "rows": orjson.dumps(rows).decode(),
            }
        )


def searcher(search: str, plan: SearchPlan, seed: int) -> Any:
    """Optuna's or Hyperopt's TPE, seeded so that a search can be repeated."""
    if search == "optuna":
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(metric=plan.metric, mode="max", seed=seed)
    from ray.tune.search.hyperopt import HyperOptSearch

    return HyperOptSearch(metric=plan.metric, mode="max", random_state_seed=seed)


def scheduler(plan: SearchPlan) -> Any:
    """ASHA over the rungs: its time is ``t`` (η^k), so its milestones are exactly the rungs."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(
        time_attr="t",
        metric=plan.metric,
        mode="max",
        max_t=plan.max_t,
        grace_period=1,
        reduction_factor=ETA,
    )


class Collector(tune.Callback):
    """On the driver: each reported rung's rows to ``on_row``, and one log entry."""

    def __init__(
        self, on_row: Callable[[Row], None], log: list[dict[str, Any]], metric: str
    ) -> None:
        self.on_row = on_row
        self.log = log
        self.metric = metric

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks so an experiment could be restored; the open table
        # cannot be pickled, and a search resumes from results.csv instead
        return {}

    def on_trial_result(
        self, iteration: int, trials: Any, trial: Any, result: dict[str, Any], **_: Any
    ) -> None:
        rows: list[Row] = orjson.loads(result["rows"])
        for row in rows:
            self.on_row(row)
        self.log.append(
            {
                "trial": trial.trial_id,
                "t": result["t"],
                "days": result["days"],
                "metric": result[self.metric],
                "run_ids": ";".join(str(r["run_id"]) for r in rows),
                **{f"param.{k}": v for k, v in sorted(trial.config.items())},
            }
        )


def run_search(
    plan: SearchPlan,
    *,
    search: str,
    samples: int,
    workers: int,
    out_dir: Path,
    on_row: Callable[[Row], None],
    done: Mapping[str, Row],
    loaded: Loaded | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """``samples`` trials, at most ``workers`` at a time, on the Ray already started.

    Returns the search log: one entry per trial per rung it reached (what ASHA saw).
    """
    import ray

    log: list[dict[str, Any]] = []
    cache = ray.remote(num_cpus=0)(RowCache).remote(done)
    space = {key: tune.choice(list(values)) for key, values in plan.choices}
    tuner = tune.Tuner(
        tune.with_parameters(trial, plan=plan, cache=cache, loaded=loaded),
        param_space=space,
        tune_config=tune.TuneConfig(
            search_alg=searcher(search, plan, seed),
            scheduler=scheduler(plan),
            num_samples=samples,
            max_concurrent_trials=workers,
            reuse_actors=True,  # a worker keeps its parsed history from trial to trial
        ),
        run_config=tune.RunConfig(
            storage_path=str(out_dir.resolve() / "tune"),
            name="search",
            callbacks=[Collector(on_row, log, plan.metric)],
            verbose=0,
        ),
    )
    # results.csv and search.csv hold everything: Tune's own per-trial logs would only
    # repeat them (and its TensorBoard logger warns about every undefined metric)
    quiet = os.environ.get(NO_LOGGERS)
    os.environ[NO_LOGGERS] = "1"
    try:
        tuner.fit()
    finally:
        if quiet is None:
            del os.environ[NO_LOGGERS]
    return log
