"""The engine as a service: FastAPI over the durable store (``xmargin serve``).

``create_app(settings)`` builds the app; nothing connects until it starts. See
:mod:`xmargin.service.writer` for the one write path, :mod:`xmargin.service.auth` for
roles, and :mod:`xmargin.service.errors` for the error-code to HTTP-status table.
"""

from xmargin.service.app import create_app, prepare_database
from xmargin.service.settings import Settings

__all__ = ["Settings", "create_app", "prepare_database"]
