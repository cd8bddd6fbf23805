"""Procedural datasets that imitate the structure of real medical-imaging tasks.

Real datasets cannot be downloaded where bench's suites and tests run, so each generator
renders images from a model of how the real ones are formed (speckle and attenuation for
ultrasound, stain absorbance for histology, melanin for dermoscopy...), with simulated
patients so grouped splits are exercised. ``generate(name, ...)`` returns an
:class:`ImageSet`; ``SYNTHETIC`` maps each name to its :class:`Generator` (classes,
channels; calling one is the same as ``generate`` with its name). Needs numpy only.
"""

from bench.data.synthetic.imageset import ImageSet
from bench.data.synthetic.registry import SYNTHETIC, Generator, generate

__all__ = ["SYNTHETIC", "Generator", "ImageSet", "generate"]
