"""What a name in a Python module stands for: imports, aliases and module-level constants.

``import torch as t`` makes ``t.load`` mean ``torch.load``; ``from pickle import load as l``
makes ``l`` mean ``pickle.load``; ``loader = pickle.load`` and ``getattr(pickle, "load")`` do the
same. Names never bound in the text (a notebook cell whose imports ran in an earlier cell) stand
for themselves, so ``pickle.load`` still reads as ``pickle.load``. Nothing is imported: this is
bookkeeping over the syntax tree only.
"""

from __future__ import annotations

import ast

#: Module spellings that load the same code as a canonical module.
_CANONICAL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("cPickle.", "pickle."),
    ("_pickle.", "pickle."),
    ("pickle5.", "pickle."),
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.saving.saving_api.", "keras.saving."),
    ("keras.src.", "keras."),
    ("keras.api.", "keras."),
    ("torch.serialization.", "torch."),
    ("sklearn.externals.joblib.", "joblib."),
    ("pandas.io.pickle.", "pandas."),
    ("numpy.lib.npyio.", "numpy."),
    ("numpy.lib._npyio_impl.", "numpy."),
    ("urllib.request.", "urllib.request."),
    ("six.moves.urllib.request.", "urllib.request."),
)

#: Aliases so conventional that an unbound ``np`` in a notebook cell means NumPy.
_CONVENTIONAL = {"np": "numpy", "pd": "pandas", "tf": "tensorflow"}


def canonical(name: str) -> str:
    """The canonical spelling of a dotted name (``cPickle.load`` is ``pickle.load``)."""
    for prefix, replacement in _CANONICAL_PREFIXES:
        if name.startswith(prefix):
            return replacement + name[len(prefix) :]
    return name


class NameTable:
    """Aliases and string constants of one module, filled while its tree is walked.

    ``aliases`` maps a local name to the dotted name it stands for, or to ``None`` when the
    name was rebound to a value that is not a module or a known callable (then it stands for
    nothing this table can tell).
    """

    __slots__ = ("aliases", "constants")

    def __init__(self) -> None:
        self.aliases: dict[str, str | None] = {}
        self.constants: dict[str, str] = {}

    def prescan(self, module: ast.Module) -> None:
        """Read the module's top-level imports and assignments before the walk.

        Functions run after the module body, so a name bound at module level below a
        function is still what the function sees.
        """
        for statement in module.body:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self.bind_import(statement)
            elif isinstance(statement, ast.Assign):
                self.bind_assignment(statement.targets, statement.value)
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                self.bind_assignment([statement.target], statement.value)
            elif isinstance(statement, ast.Try | ast.If):
                # try: import cPickle as pickle / except ImportError: import pickle
                for inner in ast.iter_child_nodes(statement):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        self.bind_import(inner)
                    elif isinstance(inner, ast.ExceptHandler):
                        for handled in inner.body:
                            if isinstance(handled, ast.Import | ast.ImportFrom):
                                self.bind_import(handled)

    def bind_import(self, node: ast.Import | ast.ImportFrom) -> None:
        """Record what an import statement binds."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    # ``import torch.serialization`` binds ``torch``.
                    top = alias.name.split(".", 1)[0]
                    self.aliases[top] = top
            return
        if node.level:  # relative imports name this project's own modules
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = None
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def bind_assignment(self, targets: list[ast.expr], value: ast.expr) -> None:
        """Record ``name = dotted.name`` aliases and ``NAME = "text"`` constants."""
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            name = target.id
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.constants[name] = value.value
                self.aliases[name] = None
                continue
            self.constants.pop(name, None)
            resolved = self._bound_name(value)
            self.aliases[name] = resolved

    def bind_local(self, targets: list[ast.expr], value: ast.expr) -> None:
        """Record an assignment inside a function or class body.

        The table is one per module, so a local binding only adds what it can name (an alias,
        a constant) and never hides a module-level import from other functions.
        """
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            name = target.id
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.constants[name] = value.value
                continue
            resolved = self._bound_name(value)
            if resolved is not None:
                self.aliases[name] = resolved
            elif name not in self.aliases:
                self.aliases[name] = None

    def _bound_name(self, value: ast.expr) -> str | None:
        # What an assigned value names: a dotted name, an imported module or a getattr.
        if isinstance(value, ast.Name | ast.Attribute):
            return self.resolve(value)
        if isinstance(value, ast.Call):
            return self._dynamic_module(value) or self._getattr(value)
        return None

    def resolve(self, node: ast.expr) -> str | None:
        """The canonical dotted name an expression stands for, or ``None``."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.aliases:
                base = self.aliases[name]
                if base is None:
                    return None
            else:
                base = _CONVENTIONAL.get(name, name)
        elif isinstance(node, ast.Call):
            base = self._dynamic_module(node) or self._getattr(node)
            if base is None:
                return None
        else:
            return None
        if parts:
            parts.reverse()
            return canonical(base + "." + ".".join(parts))
        return canonical(base)

    def _getattr(self, call: ast.Call) -> str | None:
        # getattr(pickle, "load") with a constant attribute name
        if (
            isinstance(call.func, ast.Name)
            and call.func.id == "getattr"
            and "getattr" not in self.aliases
            and len(call.args) >= 2
            and isinstance(call.args[1], ast.Constant)
            and isinstance(call.args[1].value, str)
        ):
            base = self.resolve(call.args[0])
            if base is not None:
                return f"{base}.{call.args[1].value}"
        return None

    def _dynamic_module(self, call: ast.Call) -> str | None:
        # importlib.import_module("pickle") and __import__("pickle")
        func = call.func
        named = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
            isinstance(func, ast.Attribute) and func.attr == "import_module"
        )
        if (
            named
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            return call.args[0].value
        return None

    def string(self, node: ast.expr | None) -> str | None:
        """The text of a string literal, or of a name bound to one at module level."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return None
