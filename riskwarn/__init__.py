"""riskwarn: open early warning of dispute escalation.

The core package holds the data contract, dataset loading and validation, the county
simulator, configuration and errors. The stages build on it: ``riskwarn.features``,
``riskwarn.training``, ``riskwarn.serving``.

    >>> import riskwarn
    >>> ds = riskwarn.load_dataset("path/to/dataset")   # doctest: +SKIP
"""

from __future__ import annotations

from riskwarn._contract import CONTRACT_VERSION
from riskwarn._contract import TABLES_BY_NAME as CONTRACT_TABLES
from riskwarn._dataset import Dataset, empty_table
from riskwarn._io import write_dataset
from riskwarn._retention import (
    Expiry,
    RetentionPolicy,
    TableRetention,
    default_retention_file,
    expiry,
    load_retention,
)
from riskwarn._sim_loop import WarningLoop
from riskwarn._sim_mechanisms import Mechanisms, load_mechanisms
from riskwarn._simulate import Simulation, simulate, simulate_with_truth
from riskwarn._validate import (
    ContractWarning,
    Issue,
    ValidationReport,
    load_dataset,
    parse_records,
    validate_dataset,
)

__version__ = "0.1.0"

__all__ = [
    "CONTRACT_TABLES",
    "CONTRACT_VERSION",
    "ContractWarning",
    "Dataset",
    "Expiry",
    "Issue",
    "Mechanisms",
    "RetentionPolicy",
    "Simulation",
    "TableRetention",
    "ValidationReport",
    "WarningLoop",
    "__version__",
    "default_retention_file",
    "empty_table",
    "expiry",
    "load_dataset",
    "load_mechanisms",
    "load_retention",
    "parse_records",
    "simulate",
    "simulate_with_truth",
    "validate_dataset",
    "write_dataset",
]
