"""The scanner registry: built-in modules load per kind, and declare the kinds they scan."""

from __future__ import annotations

import subprocess
import sys

from mlwarden import scanners as registry


def test_declared_kinds_cover_what_each_module_registers() -> None:
    for cls in registry.registered():
        declared = registry.BUILTIN_MODULES.get(cls.__module__)
        if declared is None:  # a package: the module named is its parent
            parent = cls.__module__.rsplit(".", 1)[0]
            while parent not in registry.BUILTIN_MODULES and "." in parent:
                parent = parent.rsplit(".", 1)[0]
            declared = registry.BUILTIN_MODULES.get(parent)
        assert declared is not None, f"{cls.__module__} is not a built-in module"
        assert cls.kinds <= declared, (cls.__name__, cls.kinds - declared)


def test_a_lockfile_scan_imports_no_model_scanner(tmp_path: object) -> None:
    code = (
        "import sys, pathlib, tempfile\n"
        "from mlwarden.engine import scan_file\n"
        "d = pathlib.Path(tempfile.mkdtemp()); p = d / 'requirements.txt'\n"
        "p.write_text('requests==2.0.0\\n')\n"
        "scan_file(str(p), p)\n"
        "print(sorted(m for m in sys.modules if m.startswith('mlwarden.scanners.models')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
