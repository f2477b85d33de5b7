"""The live risk dashboard served at ``/``: pages, their static files, and schemas of the
read-only endpoints behind them (:mod:`xmargin.service.routes.views_dashboard`,
:mod:`xmargin.service.routes.views_accounts`)."""
