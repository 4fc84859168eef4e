"""``Monitored``: the job / sub-job context manager, in two designs chosen by the arguments.

* ``Monitored(name, job_id=None, parent=None, client=None, attrs=None)``: the TCP design below,
  on top of the ``Monitoring`` client.
* ``Monitored(site_id=…, app=…, entity_type=…, business_key=…, emitter=…)`` (seed 003): the HTTP
  design of ``job.py``, through a ``SidecarEmitter``. Chosen when no positional argument is given
  and any of those keywords (or ``sub_key``, ``metadata``) is, or when the second positional
  argument is an ``AppRef`` (003's own positional order).

The TCP design:

    with Monitored("nightly-import", job_id="job-42") as job:
        job.progress(10, "reading")
        with job.sub("parse") as sub:          # job id "job-42.1", a child span of the job
            sub.progress(50)
        job.metric("rows", 1200, "count")

A job is a span; its job id is the argument, else the client's ``job_id`` context, else
``<name>-<random>``. Its trace is the one the client is already in (``job_id`` context, open
span, or inherited from a parent process), else the job id. A sub-job is a child span in the
same trace (from any thread), with its own job id (``<parent job id>.<n>``) and
``parent_job_id`` in the span's attrs.
On entry: ``progress`` 0 ``started``. On exit: duration, CPU and memory (a ``resource`` sample
and the span's attrs), ``progress`` 100 ``completed`` — or, when the block raises, an ``error``
event with the exception and its traceback, ``progress`` ``failed`` and the span status
``error``; the exception propagates. Usable as a decorator too (a new job per call).
"""
import functools
import itertools
import os
import threading
import time
import traceback
import uuid

from ._options import warn_unknown

try:
    import resource as _resource
except ImportError:  # Windows
    _resource = None

__all__ = ["Monitored", "TcpMonitored"]

_TRACEBACK_MAX = 4000


def _rss_bytes():
    """(current RSS, peak RSS) in bytes where the platform tells; None otherwise."""
    current = peak = None
    try:
        with open("/proc/self/statm", "rb") as f:
            current = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        current = None
    if _resource is not None:
        peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss
        peak = peak if os.uname().sysname == "Darwin" else peak * 1024
    return (current if current is not None else peak), peak


_HTTP_KEYS = frozenset(("site_id", "app", "entity_type", "business_key", "sub_key", "emitter", "metadata"))


def _http_design(args, kwargs):
    if args:
        if len(args) < 2:
            return False
        from .job import AppRef
        return isinstance(args[1], AppRef)
    return not _HTTP_KEYS.isdisjoint(kwargs)


class Monitored:
    """A job: ``with Monitored(...) as job:``. Constructing ``Monitored`` gives a
    ``TcpMonitored`` or a ``job.JobMonitored`` depending on the arguments (module docstring)."""

    def __new__(cls, *args, **kwargs):
        if cls is Monitored:
            if _http_design(args, kwargs):
                from .job import JobMonitored
                cls = JobMonitored
            else:
                cls = TcpMonitored
        return object.__new__(cls)


class TcpMonitored(Monitored):
    KNOWN_OPTIONS = ("name", "job_id", "parent", "client", "attrs")

    def __init__(self, name, job_id=None, parent=None, client=None, attrs=None, **unknown):
        warn_unknown("Monitored()", unknown, self.KNOWN_OPTIONS)
        self.name = name
        self.parent = parent
        self._job_id_arg = job_id
        self._client_arg = client
        self._attrs_arg = attrs
        self._children = itertools.count(1)
        self._lock = threading.Lock()
        self.client = None
        self.job_id = None
        self.root_job_id = None
        self.trace_id = None
        self.span_id = None
        self.percent = 0
        self.status = None
        self.duration_ms = None
        self.failed = None
        self._started = False

    # -- use -----------------------------------------------------------------------------------
    def __enter__(self):
        parent = self.parent
        if self._client_arg is not None:
            self.client = self._client_arg
        elif parent is not None and parent.client is not None:
            self.client = parent.client
        else:
            from . import get_client
            self.client = get_client()
        if parent is not None:
            self.job_id = self._job_id_arg or "%s.%d" % (parent.job_id, next(parent._children))
            self.root_job_id = parent.root_job_id
            self.trace_id = parent.trace_id
        else:
            self.job_id = (self._job_id_arg or self.client.context.get("job_id")
                           or "%s-%s" % (self.name, uuid.uuid4().hex[:12]))
            self.root_job_id = self.job_id
            # an enclosing trace (job_id context, open span, inherited from a parent process) wins
            self.trace_id = self.client.current_trace()[0] or str(self.job_id)
        self._attrs = dict(self._attrs_arg or {})
        self._attrs["job_id"] = self.job_id
        if parent is not None:
            self._attrs["parent_job_id"] = parent.job_id
        self._wall0 = time.time()
        self._perf0 = time.perf_counter()
        self._cpu0 = time.process_time()
        self.span_id = self.client.start_span(
            self.name, self._attrs, parent=parent.span_id if parent is not None else None,
            trace_id=self.trace_id)
        self._started = True
        self.progress(0, "started")
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self._started:
            return False
        self._started = False
        client = self.client
        wall = time.perf_counter() - self._perf0
        cpu = time.process_time() - self._cpu0
        rss, peak = _rss_bytes()
        self.duration_ms = round(wall * 1000.0, 3)
        cpu_pct = round(100.0 * cpu / wall, 2) if wall > 0 else 0.0
        attrs = self._attrs
        attrs["duration_ms"] = self.duration_ms
        attrs["cpu_s"] = round(cpu, 6)
        if rss is not None:
            attrs["mem_rss"] = rss
        if peak is not None:
            attrs["mem_peak"] = peak
        client.log_resource(cpu=cpu_pct, mem=rss)
        if exc_type is None and self.failed is None:
            client.log_progress(self.job_id, 100, "completed")
            status = "ok"
        else:
            if exc_type is not None:
                text = "".join(traceback.format_exception(exc_type, exc, tb))
                if len(text) > _TRACEBACK_MAX:
                    text = "…" + text[-_TRACEBACK_MAX:]
                self.failed = "%s: %s" % (exc_type.__name__, exc)
                attrs["error"] = self.failed
                client.log_event("error", "%s failed: %s" % (self.name, self.failed),
                                 {"job_id": self.job_id, "exception": exc_type.__name__,
                                  "traceback": text})
            else:
                attrs["error"] = self.failed
            client.log_progress(self.job_id, self.percent, "failed")
            status = "error"
        self.status = status
        client.end_span(self.span_id, status)
        return False

    def __call__(self, fn):
        """As a decorator: every call of ``fn`` runs as a new job (or sub-job of ``parent``)."""
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with TcpMonitored(self.name, self._job_id_arg, self.parent, self._client_arg, self._attrs_arg):
                return fn(*args, **kwargs)
        return wrapper

    # -- inside the block ----------------------------------------------------------------------
    def sub(self, name, job_id=None, attrs=None):
        """A sub-job: ``with job.sub("parse") as sub:`` (any thread)."""
        return TcpMonitored(name, job_id=job_id, parent=self, client=self.client, attrs=attrs)

    def progress(self, percent, status="running"):
        self.percent = percent
        self.client.log_progress(self.job_id, percent, status)

    def event(self, level, msg, ctx=None):
        c = {"job_id": self.job_id}
        if ctx:
            c.update(ctx)
        self.client.log_event(level, msg, c)

    def metric(self, name, value, unit=None, tags=None):
        self.client.log_metric(name, value, unit, tags)

    def fail(self, reason):
        """Marks the job failed without raising (status ``error`` on exit)."""
        self.failed = str(reason)

    def child_env(self, base=None):
        """Environment for a child process that continues this job's trace under its span."""
        from .client import format_trace_env
        env = self.client.child_env(base)
        for k, v in format_trace_env(self.trace_id, self.span_id).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env
