"""Exceptions that become verdicts: `QueryError` → `error`, `Unsupported` → `unsupported`."""


class QueryError(Exception):
    """Bad input: syntax error, unknown table or column, not a SELECT, two statements, ..."""


class Unsupported(Exception):
    """SQL the verifier does not model. The message names the feature."""

    def __init__(self, feature: str):
        super().__init__(feature)
        self.feature = feature
