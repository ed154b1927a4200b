"""Errors the CLI maps to exit codes: bad input is 2, anything unexpected is 1."""


class BadInput(Exception):
    """The user's input (a file, field or value) is wrong. The message names it."""
