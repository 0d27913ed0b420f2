"""Domain failures raised by services and shown to clients as typed errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the failures a client can act on; the transaction is rolled back."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """An input value is wrong; ``field`` names it (``input.members.0.idNumber``)."""

    code = "validation"

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, entity: str, ident: object) -> None:
        super().__init__(f"{entity} {ident} not found")
        self.entity = entity
        self.ident = str(ident)


class Conflict(DomainError):
    """A stale ``version``, a duplicate, or a state that forbids the change."""

    code = "conflict"

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class IllegalTransition(DomainError):
    """A case cannot move from its current state by this action."""

    code = "illegal_transition"

    def __init__(self, entity: str, state: str, action: str) -> None:
        super().__init__(f"{entity} in state {state!r} cannot {action}")
        self.entity = entity
        self.state = state
        self.action = action


class Forbidden(DomainError):
    code = "forbidden"
