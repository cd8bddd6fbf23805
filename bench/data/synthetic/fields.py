"""Vectorised building blocks of the generators: coordinates, random fields, soft shapes.

Everything works on a batch of B images at once, arrays (B, H, W), because per-image Python
loops would cap generation far below the ~1000 images/s the suites need. Coordinates are in
[-1, 1] across the image whatever its size, so shapes look the same at 32 and 256 px.
"""

import numpy as np


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1]: rows y (1, size, 1) and columns x (1, 1, size)."""
    c = ((np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0).astype(np.float32)
    return c[None, :, None], c[None, None, :]


def per_image(values: np.ndarray) -> np.ndarray:
    """View (B,) per-image values as (B, 1, 1) so they broadcast over pixels."""
    return np.asarray(values, dtype=np.float32)[:, None, None]


def smooth_field(
    rng: np.random.Generator, n: int, size: int, *, sigma, stretch=1.0, angle=0.0
) -> np.ndarray:
    """Complex Gaussian random field (n, size, size) with Gaussian correlation.

    Real and imaginary parts are independent zero-mean unit-variance fields (two textures for
    the price of one FFT): white noise smoothed by a Gaussian kernel of ``sigma`` pixels,
    ``stretch`` times longer along the direction ``angle`` (radians from the x axis); all
    three may be scalars or (n,) arrays. The field wraps around the image edges, which no
    texture here makes visible.
    """
    f = np.fft.fftfreq(size).astype(np.float32)
    fy, fx = f[None, :, None], f[None, None, :]
    sigma, stretch, angle = (per_image(np.broadcast_to(v, (n,))) for v in (sigma, stretch, angle))
    along = fx * np.cos(angle) + fy * np.sin(angle)
    across = fy * np.cos(angle) - fx * np.sin(angle)
    # Filtering white noise by the Fourier transform of a Gaussian kernel correlates it.
    gain = np.exp(-2.0 * np.pi**2 * sigma**2 * ((stretch * along) ** 2 + across**2))
    gain *= np.sqrt(size * size / np.sum(gain**2, axis=(1, 2), keepdims=True))
    white = rng.standard_normal((n, size, size, 2), dtype=np.float32).view(np.complex64)[..., 0]
    return np.fft.ifft2(white * gain, norm="ortho")


def local_coords(yy: np.ndarray, xx: np.ndarray, *, cy, cx, angle) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (u, v) relative to per-image centres, u along the per-image ``angle``."""
    dy, dx = yy - per_image(cy), xx - per_image(cx)
    cos, sin = per_image(np.cos(angle)), per_image(np.sin(angle))
    return dx * cos + dy * sin, dy * cos - dx * sin


def outline(theta: np.ndarray, *, orders, amplitudes: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """Relative outline radius 1 + sum_k a_k cos(k theta + phi_k) over harmonic ``orders``.

    ``amplitudes`` and ``phases`` are (B, len(orders)).
    """
    radius = np.ones_like(theta)
    for i, k in enumerate(orders):
        radius += per_image(amplitudes[:, i]) * np.cos(k * theta + per_image(phases[:, i]))
    return radius


def soft_step(x: np.ndarray, width) -> np.ndarray:
    """0 below -width/2, 1 above +width/2, linear between: an anti-aliased edge."""
    return np.clip(0.5 + x / width, 0.0, 1.0)


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Blur (B, H, W) images with a Gaussian of ``sigma`` pixels (periodic edges, via FFT)."""
    fy, fx = np.fft.fftfreq(images.shape[-2])[:, None], np.fft.rfftfreq(images.shape[-1])[None, :]
    gain = np.exp(-2.0 * np.pi**2 * sigma**2 * (fy**2 + fx**2)).astype(np.float32)
    return np.fft.irfft2(np.fft.rfft2(images) * gain, s=images.shape[-2:])


def gaussian_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Additive sensor noise of standard deviation ``scale`` (float32)."""
    return scale * rng.standard_normal(shape, dtype=np.float32)
