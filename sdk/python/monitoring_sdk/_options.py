"""Keyword options nobody knows are never ignored silently: one ``warnings.warn`` per call,
naming them and the known ones (the Perl SDK does the same with ``carp``)."""
import os
import sys
import warnings

__all__ = ["warn_unknown", "SignalboxOptionWarning"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class SignalboxOptionWarning(UserWarning):
    """An option the SDK does not know was given (and is ignored)."""


def _caller_stacklevel():
    """The stacklevel of the first frame outside this package: the warning names the line of
    the application's call, also when it went through ``init()`` or ``Monitored``."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None:
        if os.path.dirname(os.path.abspath(frame.f_code.co_filename)) != _PACKAGE_DIR:
            return level
        frame = frame.f_back
        level += 1
    return level


def warn_unknown(where, unknown, known):
    """Warns once about every key of ``unknown`` (if any) for the call ``where``; returns
    nothing: the call goes on with the options it knows."""
    if not unknown:
        return
    names = ", ".join(sorted(str(k) for k in unknown))
    warnings.warn("monitoring_sdk: %s ignores unknown option%s %s; known options: %s"
                  % (where, "s" if len(unknown) > 1 else "", names, ", ".join(known)),
                  SignalboxOptionWarning, stacklevel=_caller_stacklevel())
