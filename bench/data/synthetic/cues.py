"""How ``difficulty`` turns class-specific cues into overlapping ones.

Each generator describes its classes by target cue values in [0, 1] (for example the
ultrasound aspect cue: 0 = wider-than-tall, 1 = taller-than-wide). A patient's cues are the
class targets pulled toward a uniformly random value, the more so the harder the dataset:
at difficulty 0 every patient shows its class's textbook cues, at difficulty 1 the class
shifts the cues by only 5% of their range and images are further blurred by noise.
"""

import numpy as np


def cue_strength(difficulty: float) -> float:
    """Weight of the class target in a patient's cue: 1 at difficulty 0, 0.05 at difficulty 1."""
    return 1.0 - 0.95 * difficulty


def mix_cues(rng: np.random.Generator, targets: np.ndarray, difficulty: float) -> np.ndarray:
    """Per-patient cues (P, n_cues): class targets (P, n_cues) blended with uniform noise."""
    strength = cue_strength(difficulty)
    return (strength * targets + (1.0 - strength) * rng.random(targets.shape)).astype(np.float32)
