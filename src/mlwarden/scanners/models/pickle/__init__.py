"""Pickle analysis: a streaming opcode reader, a symbolic machine and a global policy.

Nothing here unpickles: opcodes are decoded and simulated on symbolic values only.
"""
