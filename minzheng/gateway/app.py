"""The Starlette application: ``/graphql``, ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from minzheng.core import migrate
from minzheng.core.db import create_engine, session_factory
from minzheng.core.persisted import DatabaseQueryStore
from minzheng.core.plugins import LoadedPlugins, PluginInfo, load
from minzheng.core.scope import PENDING
from minzheng.core.settings import Settings, get_settings
from minzheng.gateway import logs
from minzheng.gateway.auth import (
    AuthError,
    authenticate,
    authenticate_connection,
    check_row_security,
    demo_graphiql_html,
    has_credentials,
    prepare_demo,
)
from minzheng.gateway.limits import RequestLimits
from minzheng.gateway.metrics import Metrics
from minzheng.schema.builder import build_schema
from minzheng.schema.changes import ChangeBroker
from minzheng.schema.context import Context, SerialSession
from minzheng.schema.extensions import (
    MaskUnexpected,
    RequestLifecycle,
    parse_and_validate_caches,
)
from minzheng.schema.limits import security_extensions
from minzheng.schema.loaders import core_loaders

log = logging.getLogger("minzheng.gateway")


@dataclass
class AppState:
    settings: Settings
    plugins: LoadedPlugins
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    changes: ChangeBroker
    extra_plugins: Sequence[PluginInfo] = ()


def settle_heap() -> None:
    """Exempt what start-up built from the cyclic garbage collector (``gc.freeze``).

    The schema, the mappers and the plugins are some 200,000 objects that live
    as long as the process; every full collection walked them again, and a
    request that builds a page of 50 households allocates enough to trigger
    several: a third of its CPU went to the collector (RESULTS.md in ``bench/``).
    Objects allocated later are collected as before.  Called once a server
    process has built the application, before it serves."""
    gc.collect()
    gc.freeze()


class GraphQLApp(GraphQL):  # type: ignore[type-arg]
    def __init__(self, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    async def get_context(  # type: ignore[override]
        self, request: Any, response: Any = None
    ) -> Context:
        st = self.state
        principal = request.scope["state"]["principal"]
        request_id = request.scope["state"].get("request_id") or uuid.uuid4().hex[:16]
        info = {"principal": principal, "plugins": st.plugins.manager, "request_id": request_id}
        db = SerialSession(st.sessions, info)
        ctx = Context(
            principal=principal,
            db=db,
            settings=st.settings,
            plugins=st.plugins,
            request=request,
            response=response,
            request_id=request_id,
            extra={"changes": st.changes, "metrics": st.metrics},
        )
        ctx.loaders = core_loaders(db, st.plugins.manager)
        for _name, loaders in st.plugins.results("create_loaders", context=ctx):
            ctx.loaders.add(loaders)
        return ctx

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:  # type: ignore[override]
        """A websocket without credentials in its handshake authenticates with
        its ``connection_init`` payload; refused (4403) without valid ones."""
        if context.principal is not PENDING:
            return UNSET
        try:
            principal = await authenticate_connection(context.connection_params, self.state)
        except AuthError as exc:
            log.info(
                "websocket refused: %s",
                exc.code,
                extra={"request_id": context.request_id, "code": exc.code},
            )
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from None
        context.principal = principal
        context.db.authenticated(principal)
        return UNSET


class RequestMiddleware:
    """Request id, authentication, metrics and an access log line per request."""

    OPEN_PATHS = ("/healthz", "/readyz", "/metrics")

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    def _ide_page(self, conn: HTTPConnection) -> bool:
        """A browser asking for GraphiQL: strawberry renders the page for such a
        request and executes nothing."""
        return (
            self.state.settings.graphiql
            and conn.scope["method"] == "GET"
            and conn.url.path == "/graphql"
            and "query" not in conn.query_params
            and "text/html" in conn.headers.get("accept", "")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        rid = conn.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        rid = "".join(c for c in rid if c.isalnum() or c in "-_")[:64] or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        token = logs.request_id.set(rid)
        path = scope["path"]
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if (
                not has_credentials(conn)
                and not self.state.settings.demo
                and (scope["type"] == "websocket" or self._ide_page(conn))
            ):
                # a browser cannot send headers with a WebSocket: the client
                # authenticates in its connection_init (GraphQLApp.on_ws_connect),
                # and no operation runs before that is acknowledged; nor when it
                # opens GraphiQL, a page without data whose requests carry the
                # headers set in it
                scope["state"]["principal"] = PENDING
            elif not path.startswith(self.OPEN_PATHS):
                try:
                    scope["state"]["principal"] = await authenticate(conn, self.state)
                except AuthError as exc:
                    if scope["type"] == "websocket":
                        await send({"type": "websocket.close", "code": 4401, "reason": exc.message})
                        return
                    response = JSONResponse(
                        {
                            "errors": [
                                {
                                    "message": exc.message,
                                    "extensions": {"code": exc.code, "requestId": rid},
                                }
                            ]
                        },
                        status_code=exc.status,
                        headers={"www-authenticate": "Bearer"},
                    )
                    await response(scope, receive, send_wrapped)
                    return
            await self.app(scope, receive, send_wrapped)
        finally:
            logs.request_id.reset(token)
            if scope["type"] == "http":
                elapsed = time.perf_counter() - started
                label = path if path in ("/graphql", *self.OPEN_PATHS) else "other"
                m = self.state.metrics
                m.requests.labels(
                    path=label, method=scope["method"], status=str(status["code"])
                ).inc()
                m.latency.labels(path=label).observe(elapsed)
                if label != "/metrics":
                    log.info(
                        "%s %s %s",
                        scope["method"],
                        path,
                        status["code"],
                        extra={
                            "request_id": rid,
                            "status": status["code"],
                            "duration_ms": round(elapsed * 1000, 2),
                        },
                    )


def schema_extensions(settings: Settings, query_store: Any = None) -> list[Any]:
    return [
        *security_extensions(settings, query_store=query_store),
        *parse_and_validate_caches(),
        RequestLifecycle,
        MaskUnexpected,
    ]


def create_app(
    settings: Settings | None = None,
    *,
    extra_plugins: Sequence[PluginInfo] = (),
    engine: AsyncEngine | None = None,
) -> Starlette:
    """Build the gateway. Raises :class:`~minzheng.core.plugins.PluginError` (one
    line naming the plugin) before anything starts if a plugin cannot load."""
    settings = settings or get_settings()
    plugins = load(settings.plugins, extra=extra_plugins)
    engine = engine or create_engine(settings.database_url, echo=settings.echo_sql)
    query_store = DatabaseQueryStore(session_factory(engine))
    schema = build_schema(plugins, extensions=schema_extensions(settings, query_store))
    state = AppState(
        settings=settings,
        plugins=plugins,
        engine=engine,
        sessions=session_factory(engine),
        metrics=Metrics(),
        changes=ChangeBroker(),
        extra_plugins=extra_plugins,
    )
    graphql = GraphQLApp(
        state,
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=True,
    )
    if settings.demo and settings.graphiql:
        demo_html = demo_graphiql_html(graphql.graphql_ide_html, prepare_demo(settings))

        async def render_demo_ide(_request: Request) -> Response:
            return HTMLResponse(demo_html)

        graphql.render_graphql_ide = render_demo_ide  # type: ignore[method-assign,assignment]

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            st = await migrate.state(engine, plugins, extra_plugins)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "database": str(exc)[:200]}, status_code=503
            )
        if st.behind:
            return JSONResponse(
                {"status": "unavailable", "migrations_behind": st.behind}, status_code=503
            )
        return JSONResponse({"status": "ready", "plugins": plugins.names()})

    async def metrics(_request: Request) -> Response:
        return PlainTextResponse(state.metrics.render(), media_type=Metrics.content_type)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await check_row_security(engine, settings)
        settle_heap()
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
    app.state.minzheng = state
    app.state.schema = schema
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        query_store=query_store,
        persisted_mode=settings.persisted_queries,
    )
    app.add_middleware(RequestMiddleware, state=state)
    return app
