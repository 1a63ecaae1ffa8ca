"""Spec tests: ``--update-golden`` (or ``RUNNER_UPDATE_GOLDEN=1``), declared in the root
conftest, rewrites ``bad/*.expected`` from the loader's current output; review the diff
before committing."""
