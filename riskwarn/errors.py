"""The one exception tree of riskwarn.

    RiskwarnError
    ├── ContractError (ValueError)        a dataset breaks the data contract
    │   └── DatasetNotFoundError (FileNotFoundError)
    ├── ConfigError (ValueError)          a config file or option is wrong
    ├── NotFittedError (ValueError, AttributeError)
    ├── ModelNotFoundError (LookupError)  no model behind a URI or alias
    ├── ModelMismatchError                model built for another feature registry version
    └── RequestError (ValueError)         a service request is malformed (HTTP 4xx)
        ├── AuthenticationError           missing or wrong key (401)
        ├── PermissionDeniedError         key of the wrong role (403)
        ├── UnknownRecordError (LookupError)  the store does not know an id (404)
        └── WarningStateError                 a warning cannot take that step now (409)

Every message says what was expected, what came, and what to do. Errors that reach HTTP
carry their status in one place: :meth:`RiskwarnError.http_status_code`.
"""

from __future__ import annotations


class RiskwarnError(Exception):
    """Base of every error riskwarn raises on purpose."""

    status_code = 500

    def http_status_code(self) -> int:
        """The HTTP status this error maps to when it reaches the service."""
        return self.status_code


class ContractError(RiskwarnError, ValueError):
    """A dataset does not follow the data contract (docs/contract.md)."""

    status_code = 422

    def __init__(self, message: str, issues: list | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class DatasetNotFoundError(ContractError, FileNotFoundError):
    """The dataset directory or a required table file is missing."""


class ConfigError(RiskwarnError, ValueError):
    """A configuration file or command-line option is wrong."""

    status_code = 400


class NotFittedError(RiskwarnError, ValueError, AttributeError):
    """An estimator was used before it was fitted."""


class ModelNotFoundError(RiskwarnError, LookupError):
    """No model stands behind the given URI or alias."""

    status_code = 503


class ModelMismatchError(RiskwarnError):
    """A model was trained against another feature registry version than the code's."""

    status_code = 503


class RequestError(RiskwarnError, ValueError):
    """A service request is malformed; the message names the field and what was expected."""

    status_code = 400


class AuthenticationError(RequestError):
    """The request carries no key, or a key the service does not know."""

    status_code = 401


class PermissionDeniedError(RequestError):
    """The key is valid but its role may not use this endpoint."""

    status_code = 403


class UnknownRecordError(RequestError, LookupError):
    """The store does not know the dispute (or other record) a request names."""

    status_code = 404


class WarningStateError(RequestError):
    """A warning cannot take that step in its state (e.g. closed before a return visit)."""

    status_code = 409
