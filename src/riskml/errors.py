"""Errors a user can act on. The CLI prints them to stderr, one line each, and exits 1 (no traceback)."""


class RiskmlError(Exception):
    """Base class: a problem with the user's input, config or environment, not a bug."""


class ConfigError(RiskmlError):
    """A config file or option has a wrong value."""


class DataError(RiskmlError):
    """The ledger cannot be used (missing file, missing column, nothing usable)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class LabelError(RiskmlError):
    """The label definition yields no or too few positives."""


class ModelError(RiskmlError):
    """A model cannot be loaded, trained or verified."""
