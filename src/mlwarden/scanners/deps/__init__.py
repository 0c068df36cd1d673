"""Known vulnerabilities in a project's dependencies.

``model`` holds what a dependency is, ``sources`` reads the files that declare or lock them
(requirements files, ``pyproject.toml``, lock files, conda environments, an installed
environment); the advisory database and matching live beside them.
"""
