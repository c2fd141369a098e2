"""Errors meant for people: the CLI prints their message, never a traceback."""


class JoyflowError(Exception):
    """A problem the user can act on; ``str(err)`` is the whole message."""

    exit_code = 2


class ConfigError(JoyflowError):
    """The registry, catalogue or network configuration is unusable."""


class RunLockedError(JoyflowError):
    """Another run for the same period holds the lock."""

    exit_code = 3
