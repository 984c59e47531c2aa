"""One error tree for the whole project.

Every error a user can meet derives from :class:`MatchGraphError` and carries the HTTP status and
the CLI exit code it maps to, so the FastAPI handler and the CLI handler are one function each.
"""

from __future__ import annotations


class MatchGraphError(Exception):
    """Root of every error matchgraph raises on purpose."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class NotFound(MatchGraphError):
    """An id that the store does not hold; ``suggestions`` lists close ids."""

    http_status = 404
    exit_code = 2

    def __init__(self, message: str, *, suggestions: list[str] | None = None) -> None:
        self.suggestions = suggestions or []
        hint = f"did you mean: {', '.join(self.suggestions)}?" if self.suggestions else None
        super().__init__(message, hint=hint)


class InvalidInput(MatchGraphError):
    """Input that cannot be used at all (bad parameter, unreadable file, nothing valid in it)."""

    http_status = 422
    exit_code = 2


class BadFile(InvalidInput):
    """An input file that cannot be read, decoded or parsed as a whole.

    Readers raise only this for a file they cannot use, whatever went wrong underneath (an OS
    error, a broken compressed stream, a Parquet column of the wrong kind), so callers can report
    the file and go on with the next one. A file that is read but holds no valid record is not a
    ``BadFile``: it reads as zero records with its rejects.
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NotScored(MatchGraphError):
    """An answer that needs scores, asked before the first scoring run."""

    http_status = 409
    exit_code = 1


class StoreUnavailable(MatchGraphError):
    """The store cannot be reached or opened; retrying later may help."""

    http_status = 503
    exit_code = 3


class StoreLocked(MatchGraphError):
    """Another writer holds the store's lock."""

    http_status = 409
    exit_code = 4


class Unauthorized(MatchGraphError):
    """A missing or wrong admin token."""

    http_status = 401
    exit_code = 2


class Forbidden(MatchGraphError):
    """An action that is switched off here (admin endpoints without a configured token)."""

    http_status = 403
    exit_code = 2


class TooLarge(MatchGraphError):
    """A request body over the configured size limit."""

    http_status = 413
    exit_code = 2


class PartialFailure(MatchGraphError):
    """A command that did its work but not for every input: some files failed and were reported
    (with their reasons, in the rejects file), the others went in."""

    http_status = 207
    exit_code = 5
