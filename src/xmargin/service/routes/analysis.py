"""``POST /v1/analysis/{calibrate,optimize,network,compare-designs}``: contract 7's
analyses of the live market, and 8.6's comparison of liquidation designs on it. Admin
only; read-only (they change nothing and journal nothing).

The market is copied into a simulation book at the request (in the event loop, where
the writer publishes its changes), then the analysis runs in a worker thread. The
service holds no price files: volatilities are stated in the body (the CLI calibrates
from price history). Each response is validated against its schema before it is sent.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from xmargin.errors import InputError, InvalidRequest, Problem, UnknownAsset
from xmargin.model.numbers import parse_number
from xmargin.service.analysis_schemas import (
    CalibrateRequest,
    CalibrationResponse,
    NetworkRequest,
    NetworkResponse,
    OptimizeRequest,
    OptimizeResponse,
)
from xmargin.service.auth import authorize
from xmargin.service.deps import CurrentRole, Services, ServicesDep
from xmargin.service.routes.common import BODY_ERRORS, json_response, read_body
from xmargin.service.schemas_compare import CompareDesignsRequest, CompareDesignsResponse
from xmargin.store.records import ApiKey

router = APIRouter(prefix="/v1/analysis", tags=["analysis"])

M = TypeVar("M", bound=BaseModel)

#: The most steps and paths x steps ``compare-designs`` runs (six designs each): a
#: request's bounds (each step costs a round per design; a few seconds at the most).
MAX_STEPS, MAX_PATH_STEPS = 2_000, 200_000


def _inputs(services: Any) -> Any:
    """The live market as analysis inputs (a snapshot: later writes do not reach it)."""
    from xmargin import simulate as sim
    from xmargin.analytics.analysis_inputs import MarketInputs
    from xmargin.io import market_to_dict, parse_market

    doc = market_to_dict(services.live.market)
    market = parse_market(doc, "live market")
    return MarketInputs(
        Path("live-market.toml"),
        sim.SimBook.from_market(market),
        market,
        sim.Liquidity.from_params(market.assets),
        doc,
        "toml",
    )


async def _analysis(
    request: Request, key: ApiKey, services: Services, model: type[M]
) -> tuple[M, Any]:
    """An analysis request: the caller may run analyses, the body as ``model``, and the
    live market as its inputs."""
    authorize(key, "run_analysis")
    _, body = await read_body(request, model)
    return body, _inputs(services)


def _check_assets(names: list[str], inputs: Any, field: str) -> None:
    unknown = [a for a in names if a not in inputs.market.assets]
    if unknown:
        known = ", ".join(inputs.market.assets)
        raise InvalidRequest(
            [Problem(f"body.{field}", f"unknown asset(s) {', '.join(unknown)}; known: {known}")]
        )


def _respond(model: type[BaseModel], doc: dict[str, Any]) -> JSONResponse:
    model.model_validate(doc)
    return json_response(doc)


def _as_request(exc: InputError, field: str) -> InvalidRequest:
    return InvalidRequest([Problem(f"body.{field}", str(exc))])


@router.post("/calibrate", responses={200: {"model": CalibrationResponse}, **BODY_ERRORS})
async def calibrate(request: Request, key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Haircuts and recommended lt/cf of the live market from stated volatilities. Admin."""
    body, inputs = await _analysis(request, key, services, CalibrateRequest)
    assets = body.assets or [a for a in body.volatility if a in inputs.market.assets]
    _check_assets(list(body.volatility), inputs, "volatility")
    _check_assets(assets, inputs, "assets")
    missing = [a for a in assets if a not in body.volatility]
    if missing:
        raise InvalidRequest(
            [Problem("body.volatility", f"no volatility for {', '.join(missing)}")]
        )

    def run() -> dict[str, Any]:
        from xmargin.analytics.calibration import CalibrationConfig, calibrate

        cfg = CalibrationConfig(
            confidence=body.confidence,
            horizon_days=body.horizon_days,
            recovery=body.recovery,
            min_horizon_days=body.min_horizon_days,
            horizon_basis=body.horizon_basis,
            cf_buffer_sigmas=body.cf_buffer_sigmas,
            cf_buffer_days=body.cf_buffer_days,
            check_paths=body.check_paths,
            seed=body.seed,
        )
        return calibrate(inputs, assets, cfg, stated=dict(body.volatility)).to_doc()

    try:
        doc = await run_in_threadpool(run)
    except InputError as exc:
        raise _as_request(exc, "assets") from None
    return _respond(CalibrationResponse, doc)


@router.post("/optimize", responses={200: {"model": OptimizeResponse}, **BODY_ERRORS})
async def optimize(request: Request, key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """A parameter proposal for the live market within a VaR99 budget (nothing changes). Admin."""
    body, inputs = await _analysis(request, key, services, OptimizeRequest)
    _check_assets(list(body.volatility), inputs, "volatility")
    _check_assets(list(body.static), inputs, "static")
    _check_assets(list(body.assets or []), inputs, "assets")

    def run() -> dict[str, Any]:
        from xmargin import simulate as sim
        from xmargin.analytics.optimize import Evaluator, OptimizeConfig
        from xmargin.analytics.optimize import optimize as search

        opts = sim.MonteCarloOptions(
            model="gbm",
            vols=dict(body.volatility),
            corr=body.correlation,
            static=tuple(body.static),
            paths=body.paths,
            horizon=body.horizon,
            steps=body.steps,
            seed=body.seed,
            settle_first=body.settle_first,
            use_liquidity=body.use_liquidity,
        )
        cfg = OptimizeConfig(
            body.var99_max,
            body.lar_max,
            parse_number(body.max_step),
            body.candidates,
            body.method,
        )
        ev = Evaluator(
            inputs, opts.return_model(inputs.book), opts.config(), opts.liquidity(inputs.liquidity)
        )
        return search(inputs, ev, body.assets, cfg).to_doc()

    try:
        doc = await run_in_threadpool(run)
    except InputError as exc:
        raise _as_request(exc, "volatility") from None
    return _respond(OptimizeResponse, doc)


@router.post("/network", responses={200: {"model": NetworkResponse}, **BODY_ERRORS})
async def network(request: Request, key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Concentration, seized share, contagion and entity clearing of the live market. Admin."""
    body, inputs = await _analysis(request, key, services, NetworkRequest)
    from xmargin.analytics.clearing import parse_entities
    from xmargin.risk.shocks import parse_shock

    shocks: dict[str, Decimal] = {}
    for asset, value in body.shocks.items():
        try:
            shocks.update([parse_shock(f"{asset}={value}")])
        except InputError as exc:
            raise _as_request(exc, f"shocks.{asset}") from None
        if asset not in inputs.market.assets:
            raise _as_request(UnknownAsset(asset, "shocks"), f"shocks.{asset}")
    entities = None
    if body.entities is not None:
        try:
            entities = parse_entities({"entities": body.entities}, "body", inputs.book.assets)
        except InputError as exc:
            raise _as_request(exc, "entities") from None

    def run() -> dict[str, Any]:
        from xmargin.analytics.network import network as analyse

        res = analyse(inputs.book, inputs.liquidity, shocks, body.max_edges, entities=entities)
        return res.to_doc()

    return _respond(NetworkResponse, await run_in_threadpool(run))


@router.post("/compare-designs", responses={200: {"model": CompareDesignsResponse}, **BODY_ERRORS})
async def compare_designs(
    request: Request, key: CurrentRole, services: ServicesDep
) -> JSONResponse:
    """The same shocked paths under each liquidation design (contract 8.6). Admin."""
    body, inputs = await _analysis(request, key, services, CompareDesignsRequest)
    from xmargin import simulate as sim
    from xmargin.risk.shocks import parse_shock

    _check_assets(list(body.volatility), inputs, "volatility")
    shocks: dict[str, float] = {}
    for asset, value in body.shocks.items():
        try:
            shocks.update((a, float(x)) for a, x in [parse_shock(f"{asset}={value}")])
        except InputError as exc:
            raise _as_request(exc, f"shocks.{asset}") from None
    _check_assets(list(shocks), inputs, "shocks")
    if len(set(body.designs)) != len(body.designs):
        raise InvalidRequest([Problem("body.designs", "a design is named twice")])
    try:
        step_hours = sim.parse_duration_hours(body.step, "step")
    except InputError as exc:
        raise _as_request(exc, "step") from None
    try:
        total = round(sim.parse_duration_hours(body.horizon, "horizon") / step_hours)
    except InputError as exc:
        raise _as_request(exc, "horizon") from None
    if not body.steps <= total <= MAX_STEPS:
        why = f"{total} steps of {body.step}: must be from steps ({body.steps}) to {MAX_STEPS}"
        raise InvalidRequest([Problem("body.horizon", why)])
    if body.paths * total > MAX_PATH_STEPS:
        why = f"{body.paths} paths x {total} steps is more than {MAX_PATH_STEPS:,}"
        raise InvalidRequest([Problem("body.paths", why)])

    def run() -> dict[str, Any]:
        book, market = inputs.book, inputs.market
        exo = sim.shock_paths(
            book, shocks, body.steps, total, body.paths, body.seed, body.volatility, step_hours
        )
        got = sim.compare_designs(
            book, market, body.designs, exo, inputs.liquidity, body.gas, step_hours
        )
        return sim.compare_doc(
            got, book.quote, shocks, body.paths, body.seed, total, step_hours,
            bool(inputs.liquidity.any),
        )  # fmt: skip

    return _respond(CompareDesignsResponse, await run_in_threadpool(run))
