"""``cramprules serve``: CDS Hooks 2.0 services and a JSON evaluation API.

An optional extra (``pip install 'cramprules[service]'``): Starlette,
uvicorn and PyJWT are imported only when :func:`create_app` is called, so
``import cramprules.service`` and the configuration need none of them.

>>> from cramprules.service import ServiceConfig
>>> ServiceConfig(auth=False).limits.max_body_bytes
1048576
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any as AnyType

from cramprules.service.config import ConfigError, Issuer, Limits, ServiceConfig, load_config

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["ConfigError", "Issuer", "Limits", "ServiceConfig", "create_app", "load_config"]


def create_app(config: ServiceConfig, **options: AnyType) -> Starlette:
    """The service as an ASGI app; see :func:`cramprules.service.app.create_app`."""
    from cramprules.service.app import create_app as build

    return build(config, **options)
