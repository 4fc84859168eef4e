"""The job API of seed 003, over HTTP: ``AppRef`` and the ``Monitored`` that takes
``site_id=… app=… entity_type=… business_key=… emitter=…``.

    app = AppRef(app_id=uuid4(), name='my-app', version='1.0.0')
    emitter = SidecarEmitter(base_url='http://localhost:17001')
    with Monitored(site_id='site1', app=app, entity_type='job',
                   business_key='daily-batch', emitter=emitter) as job:
        job.progress(50)
        with Monitored(site_id='site1', app=app, entity_type='subjob', business_key='part-1',
                       emitter=emitter):   # a child job: same trace, pid = the job's span id
            ...

Every job is one span of protocol v1: ``tid`` the trace (the root job's id, or the trace
inherited from a parent process), ``sid`` the job's span id, ``pid`` the enclosing job's span id.
Messages: ``progress`` 0 ``started`` on entry; ``progress`` from ``progress()`` / ``tick()``;
on exit ``progress`` ``succeeded`` (100 %) or ``failed`` (last %), an ``error`` event first when
the block raised, then the ``span`` with duration, CPU and memory in its attrs. The mapping
table is in README.md.
"""
import contextvars
import functools
import os
import threading
import time
import traceback
import uuid

from ._options import warn_unknown
from .client import _script_name, format_trace_env, parse_trace_env
from .emitter import SidecarEmitter
from .monitored import Monitored, _rss_bytes

try:
    import resource as _resource
except ImportError:  # Windows
    _resource = None

__all__ = ["AppRef", "JobMonitored", "default_emitter", "current_job"]

_TRACEBACK_MAX = 4000
_current = contextvars.ContextVar("signalbox_http_job", default=None)

_default_emitter = [None]
_default_lock = threading.Lock()


def current_job():
    """The innermost ``Monitored(site_id=…)`` job open in this thread (or asyncio task), or None:
    code called inside the block can report progress without being handed the job."""
    return _current.get()


def default_emitter():
    """The emitter a ``Monitored`` without ``emitter=`` uses: one per process, from
    ``SIDECAR_URL``."""
    with _default_lock:
        if _default_emitter[0] is None or _default_emitter[0]._closed:
            _default_emitter[0] = SidecarEmitter()
        return _default_emitter[0]


class AppRef:
    """The application a job belongs to: ``AppRef(app_id, name, version)``. ``name`` is the
    ``src`` of every message (default: the script's name)."""

    KNOWN_OPTIONS = ("app_id", "name", "version")
    __slots__ = ("app_id", "name", "version")

    def __init__(self, app_id=None, name=None, version=None, **unknown):
        warn_unknown("AppRef()", unknown, self.KNOWN_OPTIONS)
        self.app_id = app_id
        self.name = str(name) if name else _script_name()
        self.version = None if version is None else str(version)

    def __repr__(self):
        return "AppRef(app_id=%r, name=%r, version=%r)" % (self.app_id, self.name, self.version)

    def __eq__(self, other):
        return isinstance(other, AppRef) and (self.app_id, self.name, self.version) == \
            (other.app_id, other.name, other.version)

    def __hash__(self):
        return hash((self.app_id, self.name, self.version))


def _cpu_times():
    if _resource is not None:
        r = _resource.getrusage(_resource.RUSAGE_SELF)
        return r.ru_utime, r.ru_stime
    t = os.times()
    return t.user, t.system


def _now_ms():
    return int(time.time() * 1000)


class JobMonitored(Monitored):
    """``Monitored(site_id=…, app=…, entity_type=…, business_key=…, emitter=…)``: one job (or,
    inside another such block of the same thread or task, a child job) sent over HTTP."""

    KNOWN_OPTIONS = ("site_id", "app", "entity_type", "business_key", "sub_key", "emitter", "metadata", "parent")

    def __init__(self, site_id=None, app=None, entity_type="job", business_key=None, sub_key=None,
                 emitter=None, metadata=None, parent=None, **unknown):
        warn_unknown("Monitored()", unknown, self.KNOWN_OPTIONS)
        self._args = dict(site_id=site_id, app=app, entity_type=entity_type, business_key=business_key,
                          sub_key=sub_key, emitter=emitter, metadata=metadata, parent=parent)
        self.site_id = site_id if site_id is not None else os.environ.get("SITE_ID")
        self.app = app if app is not None else AppRef()
        self.entity_type = str(entity_type) if entity_type is not None else "job"
        self.business_key = business_key
        self.sub_key = sub_key
        self.metadata = dict(metadata or {})
        self.parent = parent
        self._emitter_arg = emitter
        self.emitter = None
        self.entity_id = None
        self.trace_id = None
        self.span_id = None
        self.parent_span_id = None
        self.percent = 0
        self.status = None
        self.failed = None
        self.duration_s = None
        self._token = None
        self._started = False

    # -- messages ------------------------------------------------------------------------------
    def _message(self, type_, data, ts=None):
        m = {"v": 1, "src": self.app.name, "ts": _now_ms() if ts is None else ts, "type": type_,
             "tid": self.trace_id, "sid": self.span_id}
        if self.parent_span_id:
            m["pid"] = self.parent_span_id
        m["ctx"] = self._ctx
        m["data"] = data
        return m

    def _emit(self, type_, data, ts=None):
        try:
            self.emitter.emit(self._message(type_, data, ts))
        except Exception:  # the application must never see the SDK fail
            pass

    def _sample_mem(self):
        rss = _rss_bytes()[0]
        if rss is not None:
            self._mem_max = max(self._mem_max or 0, rss)
        return rss

    # -- use -----------------------------------------------------------------------------------
    def __enter__(self):
        parent = self.parent if self.parent is not None else _current.get()
        if parent is not None and not getattr(parent, "_started", False):
            parent = None  # ended in another context: this one is a root job
        if self._emitter_arg is not None:
            self.emitter = self._emitter_arg
        elif parent is not None:
            self.emitter = parent.emitter
        else:
            self.emitter = default_emitter()
        self.entity_id = uuid.uuid4()
        self.span_id = self.entity_id.hex[:16]
        if parent is not None:
            self.trace_id = parent.trace_id
            self.parent_span_id = parent.span_id
        else:
            tid, psid = parse_trace_env(os.environ)  # continue a trace a parent process started
            self.trace_id = tid or self.entity_id.hex
            self.parent_span_id = psid if tid else None
        self._parent_job = parent
        ctx = {"site_id": self.site_id, "app_id": None if self.app.app_id is None else str(self.app.app_id),
               "app_version": self.app.version, "entity_type": self.entity_type,
               "entity_id": str(self.entity_id), "business_key": self.business_key, "sub_key": self.sub_key,
               "parent_entity_id": str(parent.entity_id) if parent is not None else None}
        self._ctx = {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in ctx.items() if v is not None}
        self._mem_max = None
        self._sample_mem()
        self._cpu0 = _cpu_times()
        self._perf0 = time.perf_counter()
        self._start_ms = _now_ms()
        self._started = True
        self._token = _current.set(self)
        data = {"job_id": str(self.entity_id), "percent": 0, "status": "started"}
        if self.metadata:
            data["metadata"] = self.metadata
        self._emit("progress", data, self._start_ms)
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self._started:
            return False
        self._started = False
        try:
            _current.reset(self._token)
        except ValueError:  # exited in another context than it was entered in
            _current.set(self._parent_job)
        try:
            self._finish(exc_type, exc, tb)
        except Exception:  # never turn the application's outcome into an SDK error
            pass
        return False

    def _finish(self, exc_type, exc, tb):
        wall = time.perf_counter() - self._perf0
        u1, s1 = _cpu_times()
        rss = self._sample_mem()
        end_ms = _now_ms()
        self.duration_s = round(wall, 6)
        attrs = dict(self.metadata)
        attrs.update({"job_id": str(self.entity_id), "duration_s": self.duration_s,
                      "cpu_user_s": round(u1 - self._cpu0[0], 6), "cpu_system_s": round(s1 - self._cpu0[1], 6)})
        if self._mem_max is not None:
            attrs["mem_max_mb"] = round(self._mem_max / 1048576.0, 3)
        if rss is not None:
            attrs["mem_rss_mb"] = round(rss / 1048576.0, 3)
        if exc_type is None and self.failed is None:
            self.status = "succeeded"
            self.percent = 100
        else:
            self.status = "failed"
            if exc_type is not None:
                text = "".join(traceback.format_exception(exc_type, exc, tb))
                if len(text) > _TRACEBACK_MAX:
                    text = "…" + text[-_TRACEBACK_MAX:]
                self.failed = str(exc)
                attrs["error"] = str(exc)
                attrs["error_type"] = exc_type.__name__
                self._emit("event", {"level": "error", "msg": "%s: %s" % (exc_type.__name__, exc),
                                     "ctx": {"job_id": str(self.entity_id), "exception": exc_type.__name__,
                                             "traceback": text}})
            else:
                attrs["error"] = self.failed
        attrs["result"] = self.status
        self._emit("progress", {"job_id": str(self.entity_id), "percent": self.percent, "status": self.status})
        name = self.entity_type + (":" + str(self.business_key) if self.business_key is not None else "") \
            + ("/" + str(self.sub_key) if self.sub_key is not None else "")
        self._emit("span", {"name": name, "status": "ok" if self.status == "succeeded" else "error",
                            "start": self._start_ms, "end": end_ms, "attrs": attrs}, end_ms)

    def __call__(self, fn):
        """As a decorator: every call of ``fn`` runs as a new job."""
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with JobMonitored(**self._args):
                return fn(*args, **kwargs)
        return wrapper

    # -- inside the block ----------------------------------------------------------------------
    def progress(self, percent, status="running", metadata=None):
        """A ``progress`` message: ``percent`` done, ``status`` (default ``running``)."""
        if not self._started:
            return
        self.percent = percent
        data = {"job_id": str(self.entity_id), "percent": percent, "status": status}
        if metadata:
            data["metadata"] = metadata
        self._sample_mem()
        self._emit("progress", data)

    def tick(self, extra_meta=None):
        """003's progress update without a percentage: ``progress`` with the last percentage,
        status ``running`` and ``extra_meta`` as ``data.metadata``."""
        self.progress(self.percent, "running", extra_meta)

    def fail(self, reason):
        """Marks the job failed without raising (status ``failed`` on exit)."""
        self.failed = str(reason)

    def child_env(self, base=None):
        """Environment for a child process whose jobs continue this job's trace under it."""
        env = dict(os.environ if base is None else base)
        for k, v in format_trace_env(self.trace_id, self.span_id).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        if self.emitter is not None:
            env.setdefault("SIDECAR_URL", self.emitter.base_url)
        if self.site_id is not None:
            env.setdefault("SITE_ID", str(self.site_id))
        return env
