"""The supervisor workbench: the risk queue, cases and the model, in Chinese and English.

An ASGI app the riskwarn service mounts under ``/ui``; it reads the service's store and
scorer, and needs a ``supervisor`` or ``admin`` key to sign in.

    >>> import bentoml                                              # doctest: +SKIP
    >>> ui = make_workbench(bentoml.get_current_service)            # doctest: +SKIP
"""

from __future__ import annotations

from ._app import make_workbench
from ._web import Backend

__all__ = ["Backend", "make_workbench"]
