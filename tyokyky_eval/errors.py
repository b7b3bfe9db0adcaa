"""One exception type per kind of problem; the CLI turns them into exit codes."""
from __future__ import annotations

from dataclasses import dataclass

from tyokyky_eval.i18n import LANGUAGES, Message, in_language


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
    """The parameters file is missing, unreadable or has wrong keys or values.

    ``items``: the problems, each a :class:`~tyokyky_eval.i18n.Message` (written in the language
    asked for) or a text in English; ``language``: the parameters file's own language when the file
    could be read (None when it was not found or does not parse)."""

    exit_code = 2

    def __init__(self, messages, language: str | None = None):
        self.items = [messages] if isinstance(messages, (str, Message)) else list(messages)
        self.language = language
        super().__init__("\n".join(map(str, self.items)))

    @property
    def messages(self) -> list[str]:
        """The problems in English."""
        return [str(item) for item in self.items]

    def texts(self, language: str | None = None) -> list[str]:
        """The problems in ``language`` (the ``--language`` asked for), else in the parameters
        file's own language, else in English (the file's language is unknown when it does not
        parse)."""
        chosen = next((lang for lang in (language, self.language) if lang in LANGUAGES), "en")
        return [in_language(item, chosen) for item in self.items]


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
