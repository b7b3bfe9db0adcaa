"""One exception type per kind of problem; the CLI turns them into exit codes."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file, located as the user sees it (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    message: str
    value: str | None = None
    severity: str = "error"  # "error" or "warning"
    key: str = ""  # the message's locale key (validation.<key>), for summaries by kind

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.row, self.column) if p not in (None, ""))
        value = f" [{self.value!r}]" if self.value not in (None, "") else ""
        return f"{where}: {self.message}{value}"


class TyokykyEvalError(Exception):
    """Base class; `exit_code` is what the CLI returns."""

    exit_code = 1


class ParameterError(TyokykyEvalError):
    """The parameters file is missing, unreadable or has wrong keys or values."""

    exit_code = 2

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class DataError(TyokykyEvalError):
    """Input data failed validation; carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "", p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class NotebookError(TyokykyEvalError):
    """A notebook failed while executing; names the notebook and the cell."""

    exit_code = 1


class SectionError(TyokykyEvalError):
    """A section failed while the appendix was computed; names the section and the error."""

    exit_code = 1


class OutputError(TyokykyEvalError):
    """The appendix cannot be written where asked (a file in the way, a folder the run did not
    write, no space, read-only, time limit): nothing was changed."""

    exit_code = 1
