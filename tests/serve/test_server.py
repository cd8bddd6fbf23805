"""``bench serve`` over real HTTP: uvicorn on a loopback port, called with httpx."""

from __future__ import annotations

import base64
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bench.serve.bundle import load_bundle
from bench.serve.server import create_app
from tests.serve.conftest import png_bytes

httpx = pytest.importorskip("httpx", reason="needs the serve extra: pip install -e '.[serve]'")
pytest.importorskip("fastapi", reason="needs the serve extra")
pytest.importorskip("uvicorn", reason="needs the serve extra")

LIMIT = 4_000  # bytes of one image: small, so "too large" is cheap to send


@pytest.fixture(scope="module")
def bundle(exported):
    return load_bundle(exported.fold_model)


@pytest.fixture(scope="module")
def url(bundle):
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(bundle, max_upload=LIMIT), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


def _image(seed: int, *, size: int = 16, grey: bool = True) -> np.ndarray:
    shape = (size, size) if grey else (size, size, 3)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _expected(bundle, pixels: np.ndarray) -> dict:
    rgb = np.repeat(pixels[..., None], 3, axis=-1) if pixels.ndim == 2 else pixels
    (prediction,) = bundle.predict(rgb[None])
    return {"label": prediction.label, "probabilities": prediction.probabilities}


def _upload(url: str, data: bytes, **kwargs) -> httpx.Response:
    files = {"file": ("scan.png", data, "image/png")}
    return httpx.post(f"{url}/predict", files=files, timeout=30, **kwargs)


def _json(url: str, data: bytes, prefix: str = "") -> httpx.Response:
    text = prefix + base64.b64encode(data).decode()
    return httpx.post(f"{url}/predict", json={"image": text}, timeout=30)


def test_health_and_metadata(url, exported):
    health = httpx.get(f"{url}/health").json()
    assert health["status"] == "ok" and health["classes"] == ["benign", "malignant"]
    meta = httpx.get(f"{url}/metadata").json()
    assert meta["suite_hash"] == exported.suite.hash and meta["image_size"] == 16


def test_multipart_upload(url, bundle):
    pixels = _image(1)
    response = _upload(url, png_bytes(pixels))
    assert response.status_code == 200
    body = response.json()
    expected = _expected(bundle, pixels)
    assert body["label"] == expected["label"] and body["threshold"] == 0.5
    assert body["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-6)


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,"])
def test_base64_json(url, bundle, prefix):
    pixels = _image(2, grey=False)
    response = _json(url, png_bytes(pixels), prefix)
    assert response.status_code == 200
    assert response.json()["probabilities"] == pytest.approx(
        _expected(bundle, pixels)["probabilities"], abs=1e-6
    )


def test_a_larger_image_is_resized_as_in_training(url):
    ramp = np.add.outer(np.arange(48), np.arange(48)).astype(np.uint8)  # compresses well
    response = _upload(url, png_bytes(np.stack([ramp, ramp.T, 255 - ramp], axis=-1)))
    assert response.status_code == 200
    assert sum(response.json()["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


def _chunks():
    yield b"--x\r\n"


BAD_REQUESTS = {
    "not an image (upload)": (lambda u: _upload(u, b"GIF89a but not really"), 422),
    "not an image (base64)": (lambda u: _json(u, b"plain text"), 422),
    "image too large": (lambda u: _upload(u, png_bytes(_image(4, size=64, grey=False))), 413),
    "body too large": (lambda u: _upload(u, b"\0" * (LIMIT * 2 + 70_000)), 413),
    "wrong content type": (
        lambda u: httpx.post(
            f"{u}/predict", content=b"abc", headers={"content-type": "text/plain"}
        ),
        415,
    ),
    "no content type": (lambda u: httpx.post(f"{u}/predict", content=b"abc"), 415),
    "empty body": (lambda u: httpx.post(f"{u}/predict"), 415),
    "bad base64": (lambda u: httpx.post(f"{u}/predict", json={"image": "***not base64***"}), 400),
    "bad JSON": (
        lambda u: httpx.post(
            f"{u}/predict", content=b"{oops", headers={"content-type": "application/json"}
        ),
        400,
    ),
    "JSON without image": (lambda u: httpx.post(f"{u}/predict", json={"img": "AAAA"}), 400),
    "JSON not an object": (lambda u: httpx.post(f"{u}/predict", json=["AAAA"]), 400),
    "upload without file field": (
        lambda u: httpx.post(f"{u}/predict", files={"other": ("a.png", b"x", "image/png")}),
        400,
    ),
    "chunked body": (
        lambda u: httpx.post(
            f"{u}/predict", content=_chunks(), headers={"content-type": "application/json"}
        ),
        411,
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_requests_get_a_json_4xx_and_the_server_keeps_serving(url, case):
    send, status = BAD_REQUESTS[case]
    response = send(url)
    assert response.status_code == status, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert _upload(url, png_bytes(_image(5))).status_code == 200


def test_a_burst_of_concurrent_requests(url, bundle):
    images = [_image(100 + i, grey=i % 2 == 0) for i in range(20)]
    expected = [_expected(bundle, pixels) for pixels in images]

    def call(i: int) -> httpx.Response:
        if i % 5 == 4:
            return _upload(url, b"not an image")
        return (_upload if i % 2 else _json)(url, png_bytes(images[i]))

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(call, range(20)))
    for i, response in enumerate(responses):
        if i % 5 == 4:
            assert response.status_code == 422
            continue
        assert response.status_code == 200, response.text
        assert response.json()["label"] == expected[i]["label"]
        assert response.json()["probabilities"] == pytest.approx(
            expected[i]["probabilities"], abs=1e-6
        )
    assert httpx.get(f"{url}/health").status_code == 200
