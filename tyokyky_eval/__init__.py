"""tyokyky-eval: reproducible evaluation appendices for Finnish work-ability projects."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tyokyky-eval")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

from tyokyky_eval.inputs.project import Project, load_project  # noqa: E402
from tyokyky_eval.publication.appendix import load_section  # noqa: E402

__all__ = ["Project", "load_project", "load_section", "__version__"]
