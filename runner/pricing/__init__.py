"""Where prices come from: runner's dated table (package data), a user's file, or the
public Azure Retail Prices API. Everything here reads; ``runner.plan.cost`` computes."""

# A price file to estimate with (as ``--prices``); here so the CLI reads it without
# loading the price table's models.
PRICES_ENV = "RUNNER_PRICES"
