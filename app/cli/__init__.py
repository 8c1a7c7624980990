"""The command line, ``modeldeck <command>``: ``main`` builds the parser from the
command groups (``models``, ``demo``, ``backends``, ``sync``, ``health``, ``deploy``),
which share ``output``. ``from app.cli import run`` is the entry point's way in.
"""

from app.cli.main import build_parser, run
from app.cli.output import Exit, UsageError

__all__ = ["Exit", "UsageError", "build_parser", "run"]
