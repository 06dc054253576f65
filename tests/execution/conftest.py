"""Before any test module imports the Kalshi broker: the wire layer's new names (stand-ins
while the V2 wire layer is not merged; see fake_kalshi)."""

import tests.execution.fake_kalshi  # noqa: F401
