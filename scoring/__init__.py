"""How forecasts and trades score against what happened: Brier scores, intervals from
resampling whole windows, the cost floor of trading and the verdict a report prints."""
