"""ML code, notebooks, secrets and ML-serving configuration.

``python`` holds the AST rules, ``notebooks`` reads ``.ipynb`` cells and outputs, ``secrets``
finds credentials in any text, ``serving`` checks the configuration of ML servers, ``issues``
makes findings of what their rules report, and ``inline`` reads
``# mlwarden: ignore[RULE] -- reason`` comments for all of them.
"""
