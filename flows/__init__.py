"""Prefect flows and tasks: thin wrappers that call :mod:`hdr` (reading) and :mod:`db` (storing).

- :mod:`flows.process_batch`: the `process-batch` flow (deployments `nightly`, `adhoc`;
  `hdr batch` runs it locally).
- :mod:`flows.train_digits`: the `train-digits` flow (`hdr train digits` + model registry).
- :mod:`flows.serve`: `make serve` (a local Prefect server, the work pool, the deployments of
  prefect.yaml and a process worker).

Settings: configs/flows.yaml (:mod:`flows.config`). Importing this package does not import
Prefect; its modules do.
"""
