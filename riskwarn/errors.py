"""The one exception tree of riskwarn.

    RiskwarnError
    ├── ContractError (ValueError)        a dataset breaks the data contract (HTTP 422)
    │   └── DatasetNotFoundError (FileNotFoundError)
    ├── ConfigError (ValueError)          a config file or option is wrong
    ├── NotFittedError (ValueError, AttributeError)
    ├── ModelNotFoundError (LookupError)  no model behind a URI or alias
    ├── ModelMismatchError                model built for another feature registry version
    ├── ServiceUnavailableError           the service cannot answer now; try again (503)
    │   └── StoreUnavailableError         the store is busy, locked, gone or unreadable
    └── RequestError (ValueError)         a service request is malformed (HTTP 400)
        ├── AuthenticationError           missing or wrong key (401)
        ├── PermissionDeniedError         key of the wrong role (403)
        ├── UnknownRecordError (LookupError)  the store does not know an id (404)
        ├── UnknownRouteError (LookupError)   no endpoint at this path (404)
        ├── MethodNotAllowedError         the path exists, the method does not (405)
        ├── WarningStateError                 a warning cannot take that step now (409)
        ├── PayloadTooLargeError          the body is over the size limit (413)
        └── UnsupportedMediaTypeError     the body is not JSON (415)

Every message says what was expected, what came, and what to do. Errors that reach HTTP
carry their status in one place, :meth:`RiskwarnError.http_status_code`, and the service
turns every one of them into the same JSON body (``riskwarn.serving.ErrorResponse``).
"""

from __future__ import annotations


class RiskwarnError(Exception):
    """Base of every error riskwarn raises on purpose."""

    status_code = 500

    def http_status_code(self) -> int:
        """The HTTP status this error maps to when it reaches the service."""
        return self.status_code


class ContractError(RiskwarnError, ValueError):
    """Records break the data contract: ``issues`` names the table, record and field."""

    status_code = 422

    def __init__(self, message: str, issues: list | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class DatasetNotFoundError(ContractError, FileNotFoundError):
    """The dataset directory or a required table file is missing."""


class ConfigError(RiskwarnError, ValueError):
    """A configuration file, setting or command-line option is wrong."""

    status_code = 400


class NotFittedError(RiskwarnError, ValueError, AttributeError):
    """An estimator was used before it was fitted."""


class ModelNotFoundError(RiskwarnError, LookupError):
    """No model stands behind the given URI or alias."""

    status_code = 503


class ModelMismatchError(RiskwarnError):
    """A model was trained against another feature registry version than the code's."""

    status_code = 503


class ServiceUnavailableError(RiskwarnError):
    """The service cannot answer now; ``retry_after`` says in how many seconds to try again."""

    status_code = 503

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailableError(ServiceUnavailableError):
    """The store did not answer in time (locked by another writer), or its file is gone,
    replaced or unreadable."""


class RequestError(RiskwarnError, ValueError):
    """The request is malformed; the message names the field and what was expected."""

    status_code = 400


class AuthenticationError(RequestError):
    """No key, or a key the service does not know (or revoked)."""

    status_code = 401


class PermissionDeniedError(RequestError):
    """The key is valid but its role may not use this endpoint."""

    status_code = 403


class UnknownRecordError(RequestError, LookupError):
    """The store does not hold the dispute (or grid, or model) the request names."""

    status_code = 404


class UnknownRouteError(RequestError, LookupError):
    """No endpoint at this path; the OpenAPI document at /docs.json lists them."""

    status_code = 404


class MethodNotAllowedError(RequestError):
    """The path exists but does not take this method; ``allow`` lists the ones it takes."""

    status_code = 405

    def __init__(self, message: str, allow: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allow = tuple(allow)


class PayloadTooLargeError(RequestError):
    """The body is larger than the service takes; send large batches in several calls."""

    status_code = 413


class UnsupportedMediaTypeError(RequestError):
    """The body is not sent as ``Content-Type: application/json``."""

    status_code = 415


class WarningStateError(RequestError):
    """A warning cannot take that step in its state (e.g. closed before a return visit)."""

    status_code = 409
