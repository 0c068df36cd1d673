"""IPython syntax in code cells: magics and ``!`` shell lines, separated from the Python.

A code cell is split into views of the same length in lines, so that every finding keeps the
line number it has in the cell:

- ``python``: the Python of the cell, with each magic or shell line replaced by ``pass`` at
  its indentation (valid Python with the same line numbers);
- ``shell``: the shell commands (``!cmd``, ``x = !cmd``, ``%system``, ``%sx``, and the body of
  ``%%bash``/``%%sh``/``%%script bash`` cells), other lines blank;
- ``other``: the arguments of other magics and the bodies of cells that hold neither Python
  nor shell (``%%writefile``, ``%%html``), searched for secrets only;
- ``env``: ``%env``/``%set_env`` lines, by line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Cell magics whose body is run by a shell.
SHELL_CELL_MAGICS = frozenset({"bash", "sh", "zsh", "system"})
#: Cell magics whose body is still Python (timed, profiled or captured).
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python", "python3"})
#: Line magics that run their argument in a shell.
SHELL_LINE_MAGICS = frozenset({"system", "sx"})

_CELL_MAGIC = re.compile(r"^%%(?P<name>[\w.]+)(?P<args>.*)$")
_LINE_MAGIC = re.compile(r"^(?P<indent>\s*)(?:[\w.\[\]'\", ]+=\s*)?%(?P<name>\w+)(?P<args>.*)$")
_SHELL_LINE = re.compile(r"^(?P<indent>\s*)(?:[\w.\[\]'\", ]+=\s*)?!(?P<cmd>.*)$")
# Automagic pip/conda (IPython runs "pip install x" typed bare) and help lines ("torch.load?").
_AUTOMAGIC = re.compile(r"^(?P<indent>\s*)(?:pip|conda|mamba)\s+(?:install|uninstall)\b")
_HELP = re.compile(r"^(?P<indent>\s*)[?]*[\w.]+\?{1,2}\s*$")
_ENV = re.compile(
    r"^\s*%(?:env|set_env)\s+(?P<name>[A-Za-z_]\w*)(?:\s*=\s*|\s+)(?P<value>\S.*?)\s*$"
)


@dataclass(slots=True)
class CellViews:
    """The views of one code cell; each text has exactly as many lines as the cell."""

    python: str
    shell: str
    other: str
    #: ``%env NAME=value`` lines: line number -> (name, value, column of the value).
    env: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    #: Lines of the shell view that come from ``!`` (IPython expands ``{expr}``/``$name`` there).
    interpolated: frozenset[int] = frozenset()


def split_cell(source: str) -> CellViews:
    """Separate a code cell's Python from its IPython magics and shell commands."""
    lines = source.splitlines()
    python = [""] * len(lines)
    shell = [""] * len(lines)
    other = [""] * len(lines)
    env: dict[int, tuple[str, str, int]] = {}
    interpolated: set[int] = set()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    cell_magic = _CELL_MAGIC.match(lines[first].strip()) if first is not None else None
    if cell_magic is not None and first is not None:
        body = _cell_magic_target(cell_magic["name"], cell_magic["args"])
        other[first] = cell_magic["args"]
        python[first] = "pass" if body == "python" else ""
        for i in range(first + 1, len(lines)):
            {"python": python, "shell": shell, "other": other}[body][i] = lines[i]
        if body != "python":
            return CellViews("\n".join(python), "\n".join(shell), "\n".join(other))
        start = first + 1
    else:
        start = 0
    continued = False
    for i in range(start, len(lines)):
        line = lines[i]
        if continued:
            # A magic or shell line ending in a backslash goes on on the next line.
            shell[i] = line
            continued = line.rstrip().endswith("\\")
            continue
        indent = re.match(r"\s*", line)
        pad = indent.group() if indent else ""
        shell_line = _SHELL_LINE.match(line)
        line_magic = _LINE_MAGIC.match(line)
        if shell_line is not None:
            shell[i] = " " * (shell_line.start("cmd")) + shell_line["cmd"]
            interpolated.add(i + 1)
        elif line_magic is not None:
            name = line_magic["name"]
            env_match = _ENV.match(line)
            if env_match is not None:
                env[i + 1] = (env_match["name"], env_match["value"], env_match.start("value") + 1)
            elif name in SHELL_LINE_MAGICS:
                shell[i] = " " * line_magic.start("args") + line_magic["args"]
                interpolated.add(i + 1)
            else:
                other[i] = " " * line_magic.start("args") + line_magic["args"]
        elif _AUTOMAGIC.match(line) is not None:
            shell[i] = line
        elif _HELP.match(line) is None:
            python[i] = line
            continue
        python[i] = pad + "pass"
        continued = line.rstrip().endswith("\\")
    return CellViews(
        "\n".join(python), "\n".join(shell), "\n".join(other), env, frozenset(interpolated)
    )


def _cell_magic_target(name: str, args: str) -> str:
    """Which view a cell magic's body belongs to: ``python``, ``shell`` or ``other``."""
    if name in SHELL_CELL_MAGICS:
        return "shell"
    if name == "script":
        program = args.split()[0].rsplit("/", 1)[-1] if args.split() else ""
        if program in ("bash", "sh", "zsh", "dash", "ksh"):
            return "shell"
        return "python" if program.startswith("python") else "other"
    return "python" if name in PYTHON_CELL_MAGICS else "other"
