"""The one exception family bench raises for user mistakes.

The CLI turns a :class:`BenchError` into one line on stderr and exit code 2; anything
else is a bug and keeps its traceback.
"""


class BenchError(Exception):
    """A problem the user can fix: the message names the file, key or image and the fix."""


class ConfigError(BenchError):
    """The suite file is invalid."""


class DataError(BenchError):
    """A dataset is missing, unreadable or unusable for the protocol."""


class StatsError(BenchError):
    """Scores cannot be tested as asked (too few pairs, NaN, unknown level...)."""
