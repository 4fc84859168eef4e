"""Process-wide bookkeeping shared by the TCP client and the HTTP emitter: every live instance is
closed at interpreter exit (its buffered messages flushed or spooled) and told to forget its
parent's threads and sockets in a forked child."""

import atexit
import os
import threading
import weakref


class Instances:
    """A weak set of live objects with ``close()`` and ``_reset_after_fork()``."""

    def __init__(self):
        self._live = weakref.WeakSet()
        self._lock = threading.Lock()
        self._atexit_registered = False
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork_in_child)

    def add(self, obj):
        self._live.add(obj)
        with self._lock:
            if not self._atexit_registered:
                atexit.register(self._close_all)
                self._atexit_registered = True

    def discard(self, obj):
        self._live.discard(obj)

    def __iter__(self):
        return iter(list(self._live))

    def _close_all(self):
        for obj in list(self._live):
            obj.close()

    def _after_fork_in_child(self):
        for obj in list(self._live):
            obj._reset_after_fork()
