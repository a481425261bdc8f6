"""Exceptions that become verdicts: `QueryError` → `error`, `Unsupported` → `unsupported`."""


class QueryError(Exception):
    """Bad input: syntax error, unknown table or column, not a SELECT, two statements, ..."""


class Unsupported(Exception):
    """SQL the verifier does not model. The message names the feature."""

    def __init__(self, feature: str):
        super().__init__(feature)
        self.feature = feature


def snippet(text: str, n: int = 80) -> str:
    """`text` on one line, cut to at most `n` characters, for quoting in an error message."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= n else one_line[: n - 3] + "..."
