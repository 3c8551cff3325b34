"""Domain exceptions. They carry no HTTP; `api/errors.py` maps them to status codes once."""

from __future__ import annotations


class ScaleError(Exception):
    """Base of every error the domain raises on purpose."""


class ValidationError(ScaleError):
    """Input that breaks a rule. `field` names where, as a path like `input_data[2].type`."""

    def __init__(self, field: str | None, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)

    def within(self, prefix: str) -> ValidationError:
        """The same error with its field placed under `prefix` (`interface` + `input_data[0]`)."""
        if not prefix:
            return self
        if not self.field:
            return ValidationError(prefix, self.problem)
        joined = f"{prefix}{self.field}" if self.field.startswith("[") else f"{prefix}.{self.field}"
        return ValidationError(joined, self.problem)


class NotFound(ScaleError):
    """An id or name that names nothing."""


class Conflict(ValidationError):
    """A write that would duplicate something that must be unique (name + version)."""


class InvalidTransition(ScaleError):
    """A state change that the current state does not allow."""


class Unauthorized(ScaleError):
    """A write without a valid API token."""


class Unsupported(ScaleError):
    """Something this Scale does not do yet; the message says what and when."""


class ConfigError(ScaleError):
    """A setting that cannot be used; the message names the setting."""


class Forbidden(ScaleError):
    """Something this process may not do: a file in a workspace that it has no permission to read."""
