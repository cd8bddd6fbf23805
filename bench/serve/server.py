"""``bench serve``: an exported model behind a small HTTP API (FastAPI on uvicorn).

- ``POST /predict``: one image, as a multipart upload (field ``file``) or as JSON
  ``{"image": "<base64>"}`` (a ``data:image/...;base64,`` prefix is accepted); answers
  ``{"label", "probabilities", "threshold"}``.
- ``GET /health``, ``GET /metadata``.

Every bad request gets a 4xx JSON ``{"detail": "..."}`` and the server goes on serving:
400 malformed (bad JSON, bad base64, no image field), 411 chunked body, 413 too large,
415 unsupported content type, 422 not a readable image. Bodies are refused by their
declared length before they are read. Decoding runs in the thread pool; inference is
serialised by the bundle's lock, so concurrent requests are safe.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, and
# ``Request`` is imported inside create_app so the web stack loads only when serving.
import base64
import binascii
import json
from dataclasses import asdict

import numpy as np

from bench import __version__
from bench.errors import BenchError
from bench.serve.bundle import Bundle
from bench.serve.images import ImageError, decode_image

MAX_UPLOAD = 10_000_000  # bytes of one encoded image, by default
ENVELOPE = 64 * 1024  # room for multipart headers and JSON around the image


class RequestError(Exception):
    """A client mistake, answered with ``status`` and a one-line ``detail``."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def create_app(bundle: Bundle, *, max_upload: int = MAX_UPLOAD):
    """The FastAPI application serving ``bundle``; ``max_upload`` bounds one image in bytes."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    meta = bundle.metadata
    bundle.predict(np.zeros((1, meta.image_size, meta.image_size, 3), np.uint8))  # trace once
    app = FastAPI(title=f"bench model {meta.cell}", version=__version__)
    app.add_middleware(BodyLimit, max_bytes=max_upload * 4 // 3 + ENVELOPE)  # base64: 4/3

    @app.exception_handler(RequestError)
    async def client_error(request: Request, exc: RequestError):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, 500)

    @app.get("/health")
    async def health():
        return {"status": "ok", "cell": meta.cell, "classes": list(meta.classes)}

    @app.get("/metadata")
    async def metadata():
        return asdict(meta)

    @app.post("/predict")
    async def predict(request: Request):
        data = await _image_bytes(request, max_upload=max_upload)
        prediction = await run_in_threadpool(_classify, bundle, data)
        return {**asdict(prediction), "threshold": meta.threshold}

    return app


def serve(bundle: Bundle, *, host: str, port: int, max_upload: int = MAX_UPLOAD) -> None:
    """Run the API until interrupted (one process; inference serialised by a lock)."""
    import uvicorn

    uvicorn.run(create_app(bundle, max_upload=max_upload), host=host, port=port)


def require_serve_extra() -> None:
    """Fail in one line when the optional web dependencies are missing."""
    from importlib.util import find_spec

    missing = [m for m in ("fastapi", "uvicorn", "python_multipart") if find_spec(m) is None]
    if missing:
        raise BenchError(
            f"bench serve needs the 'serve' extra ({', '.join(missing)} missing); "
            "install it with: pip install 'bench[serve]'"
        )


class BodyLimit:
    """ASGI middleware: refuse a body longer than ``max_bytes`` (413), or of undeclared
    length sent chunked (411), before reading it, so one request cannot fill the memory."""

    def __init__(self, app, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            refusal = self._refusal(dict(scope["headers"]))
            if refusal:
                from fastapi.responses import JSONResponse

                status, detail = refusal
                await JSONResponse({"detail": detail}, status)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        length = headers.get(b"content-length")
        if length is None:  # no length: a chunked body, or none at all (which is fine here)
            if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                return 411, "send a Content-Length header (chunked uploads are not accepted)"
            return None
        if not length.isdigit():
            return 400, "Content-Length is not a number"
        if int(length) > self.max_bytes:
            return 413, f"request body of {int(length):,} bytes exceeds {self.max_bytes:,}"
        return None


async def _image_bytes(request, *, max_upload: int) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        data = await _from_form(request)
    elif kind == "application/json":
        data = _from_json(await request.body())
    else:
        raise RequestError(
            415,
            f"unsupported content type {kind or '(none)'!r}; send multipart/form-data with a "
            '\'file\' field, or application/json with {"image": "<base64>"}',
        )
    if len(data) > max_upload:
        raise RequestError(413, f"image of {len(data):,} bytes exceeds {max_upload:,}")
    return data


async def _from_form(request) -> bytes:
    from starlette.datastructures import UploadFile

    async with request.form(max_files=1, max_fields=8) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise RequestError(400, "multipart upload has no file field named 'file'")
        return await upload.read()


def _from_json(body: bytes) -> bytes:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestError(400, "body is not valid JSON") from None
    text = payload.get("image") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        raise RequestError(400, 'JSON body needs {"image": "<base64-encoded image>"}')
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, "'image' is not valid base64") from None


def _classify(bundle: Bundle, data: bytes):
    try:
        meta = bundle.metadata
        image = decode_image(
            data, size=meta.image_size, name="upload", segmentation=meta.segmentation
        )
    except ImageError as exc:
        raise RequestError(422, str(exc)) from None
    return bundle.predict(image[None])[0]
