"""Request-level limits on ``POST /graphql``, before GraphQL sees the request.

* bodies larger than ``MINZHENG_MAX_BODY_BYTES`` → 413 ``REQUEST_TOO_LARGE``
  (checked on ``Content-Length`` and again while reading, for chunked bodies);
* a body that is not JSON → 415 ``UNSUPPORTED_MEDIA_TYPE``; malformed JSON →
  400 ``BAD_JSON``; JSON that is not a GraphQL request (not an object, ``query``
  not a string, ``variables``/``extensions`` not objects, ``operationName`` not a
  string) → 400 ``BAD_REQUEST``;
* automatic persisted queries: a request carrying only
  ``extensions.persistedQuery.sha256Hash`` gets the registered text filled in,
  or a GraphQL error ``PERSISTED_QUERY_NOT_FOUND`` (the client then sends the
  text; in ``required`` mode only registered texts run — see
  :class:`minzheng.schema.limits.PersistedQueries`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_PATH = "/graphql"


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


class BodyTooLarge(Exception):
    pass


class RequestLimits:
    """Pure ASGI middleware (it must be able to replay the body it has read)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = 1_000_000,
        query_store: Any = None,
        persisted_mode: str = "off",
        path: str = GRAPHQL_PATH,
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.mode = persisted_mode
        #: hash-only requests are looked up unless persisted queries are off
        self.store = query_store if persisted_mode != "off" else None
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"].rstrip("/") != self.path
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await error_response(400, "BAD_REQUEST", "Content-Length is not a number")(
                    scope, receive, send
                )
                return
            if declared > self.max_body:
                await self._too_large(scope, receive, send)
                return
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            await error_response(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"send GraphQL requests as application/json (got {ctype or 'no content type'})",
            )(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)
            return

        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            await error_response(400, "BAD_JSON", f"the request body is not valid JSON: {exc}")(
                scope, receive, send
            )
            return
        problem = _request_problem(payload)
        if problem:
            await error_response(400, "BAD_REQUEST", problem)(scope, receive, send)
            return

        if payload.get("query") is None:
            pq = (payload.get("extensions") or {}).get("persistedQuery")
            digest = pq.get("sha256Hash") if isinstance(pq, dict) else None
            if not isinstance(digest, str):
                await error_response(
                    400, "BAD_REQUEST", "the request has no 'query' (nor a persistedQuery hash)"
                )(scope, receive, send)
                return
            text = await self.store.get(digest) if self.store is not None else None
            if text is None:
                code = (
                    "PERSISTED_QUERY_NOT_FOUND" if self.store else "PERSISTED_QUERY_NOT_SUPPORTED"
                )
                await JSONResponse(
                    {
                        "errors": [
                            {
                                "message": "no registered operation has this hash"
                                if self.store
                                else "this server does not look up persisted queries",
                                "extensions": {"code": code},
                            }
                        ]
                    },
                    status_code=200,
                )(scope, receive, send)
                return
            payload["query"] = text
            body = json.dumps(payload).encode("utf-8")

        await self.app(_with_length(scope, len(body)), _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(
            413, "REQUEST_TOO_LARGE", f"the request body is larger than {self.max_body} bytes"
        )(scope, receive, send)


def _request_problem(payload: Any) -> str | None:
    if isinstance(payload, list):
        return "batched requests are not accepted; send one operation per request"
    if not isinstance(payload, dict):
        return "a GraphQL request is a JSON object with a 'query'"
    query = payload.get("query")
    if query is not None and not isinstance(query, str):
        return "'query' must be a string"
    if isinstance(query, str) and not query.strip():
        return "'query' is empty"
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return "'variables' must be an object"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "'operationName' must be a string"
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        return "'extensions' must be an object"
    return None


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _replay(body: bytes, upstream: Receive) -> Receive:
    """The body already read, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await upstream()

    return receive
