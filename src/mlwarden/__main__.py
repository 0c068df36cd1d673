"""``python -m mlwarden``: the same program as the ``mlwarden`` command."""

from mlwarden.cli import run

if __name__ == "__main__":
    run()
