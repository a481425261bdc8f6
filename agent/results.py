"""A query or program result kept by the agent: `ResultTable`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ResultTable(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    total_rows: int = Field(description="rows the query returned (rows may hold fewer: the keep cap)")

    @property
    def complete(self) -> bool:
        return self.total_rows == len(self.rows)
