"""The Signalbox client: send-only, never blocks or throws into the caller because of the network.

Every call builds one JSON line on the caller's thread and appends it to a bounded buffer; one
background thread owns the socket: it connects (with exponential backoff), writes ``hello``,
replays the buffer in order, sends heartbeats, and on ``close()`` flushes and writes ``goodbye``.
"""
import contextvars
import encodings.idna  # noqa: F401  imported now: a lazy import in the sender can fail after fork
import json
import logging
import os
import random
import re
import select
import signal
import socket
import ssl
import sys
import threading
import time
import warnings
import weakref
from collections import deque
from json.encoder import encode_basestring_ascii as _jstr

from ._lifecycle import Instances
from ._options import warn_unknown, SignalboxOptionWarning

__all__ = ["Monitoring", "State", "SDK_NAME", "__version__"]

__version__ = "0.2.0"  # 0.2: socket_path, secret, tls (issue 14)
SDK_NAME = "python"

LOG = logging.getLogger("monitoring_sdk")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 17000
DEFAULT_BUFFER = 1000

_BATCH_LINES = 512
_BATCH_BYTES = 64 * 1024
_MAX_OPEN_SPANS = 10000
_VERDICT_WAIT = 0.5   # with a secret: how long a new connection waits for a refusal before writing messages
_REPORT_EVERY = 60.0  # the same complaint (refusal, TLS failure) is logged at most this often
_FALSE = ("", "0", "false", "no", "off")

_HEX16 = re.compile(r"[0-9a-f]{16}\Z")
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\Z")

_time = time.time
_monotonic = time.monotonic


class State:
    """Connection states (``Monitoring.state``)."""
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    OVERFLOW = "OVERFLOW"
    CLOSED = "CLOSED"


# ---------------------------------------------------------------------------------------------
# JSON helpers: ASCII-only output (so a line's length in characters is its length in bytes)

_encode_strict = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str).encode


_SCALAR = {str: _jstr, int: int.__repr__, type(None): lambda v: "null",
           bool: lambda v: "true" if v else "false"}


def _json(value):
    """Compact JSON for any value; never raises (NaN/inf become null, unknown types their str).
    Flat dicts of strings and numbers (the usual ctx and tags) are built by hand: ~4x faster
    than the json module's one-shot encoder."""
    if type(value) is dict:
        parts = []
        for k, v in value.items():
            t = type(v)
            if type(k) is not str:
                break
            if t is float:
                parts.append(_jstr(k) + ":" + (float.__repr__(v) if v - v == 0 else "null"))
            else:
                f = _SCALAR.get(t)
                if f is None:
                    break
                parts.append(_jstr(k) + ":" + f(v))
        else:
            return "{" + ",".join(parts) + "}"
    try:
        return _encode_strict(value)
    except (ValueError, TypeError, RecursionError):
        try:
            return _encode_strict(_sanitize(value, 0))
        except (ValueError, TypeError, RecursionError):
            return _jstr(_safe_str(value))


def _sanitize(v, depth):
    if depth > 32:
        return _safe_str(v)
    if isinstance(v, float):
        return v if v - v == 0 else None
    if isinstance(v, dict):
        return {str(k): _sanitize(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_sanitize(x, depth + 1) for x in v]
    return v


def _safe_str(v):
    try:
        return str(v)
    except Exception:  # a broken __str__ must not reach the caller
        return "<unprintable %s>" % type(v).__name__


def _num(v):
    """A JSON number (null for NaN/inf)."""
    t = type(v)
    if t is int:
        return int.__repr__(v)
    if t is float:
        return float.__repr__(v) if v - v == 0 else "null"
    if t is bool:
        return "1" if v else "0"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "null"
    return float.__repr__(f) if f - f == 0 else "null"


def _str(v):
    return _jstr(v) if type(v) is str else _jstr(_safe_str(v))


def _idtext(v):
    """The text of an id value: numbers as their decimal text."""
    if type(v) is str:
        return v
    if type(v) is bool:
        return "true" if v else "false"
    return _safe_str(v)


# ---------------------------------------------------------------------------------------------
# trace context from / to the environment

def parse_trace_env(env):
    """``(trace_id, parent_span_id)`` from ``SIGNALBOX_TRACE`` (wins) or W3C ``TRACEPARENT``."""
    st = (env.get("SIGNALBOX_TRACE") or "").strip()
    if st:
        tid, _, sid = st.partition(":")
        tid, sid = tid.strip(), sid.strip()
        if tid:
            return tid, (sid or None)
    tp = (env.get("TRACEPARENT") or "").strip()
    if tp:
        m = _TRACEPARENT.match(tp)
        if m and m.group(1) != "ff" and (m.group(1) != "00" or m.group(5) is None) \
                and m.group(2) != "0" * 32 and m.group(3) != "0" * 16:
            return m.group(2), m.group(3)
    return None, None


def format_trace_env(tid, sid):
    """The variables that let a child process continue ``tid`` under span ``sid``."""
    out = {"SIGNALBOX_TRACE": None, "TRACEPARENT": None}
    if tid:
        out["SIGNALBOX_TRACE"] = "%s:%s" % (tid, sid) if sid else tid
        if sid and _HEX32.match(tid) and _HEX16.match(sid) and tid != "0" * 32 and sid != "0" * 16:
            out["TRACEPARENT"] = "00-%s-%s-01" % (tid, sid)
    return out


class _Span:
    __slots__ = ("sid", "sidj", "tid", "tidj", "pidj", "namej", "start", "attrs", "open", "cache")

    def __init__(self, sid, tid, tidj, pidj, namej, start, attrs):
        self.sid = sid
        self.sidj = '"' + sid + '"'
        self.tid = tid
        self.tidj = tidj
        self.pidj = pidj
        self.namej = namej
        self.start = start
        self.attrs = attrs
        self.open = True
        self.cache = (None, "")  # (context state, ids fragment of messages inside this span)


class _SpanScope:
    """``with client.span(name) as span_id:`` — ends the span with ``error`` on an exception."""
    __slots__ = ("_client", "_name", "_attrs", "sid")

    def __init__(self, client, name, attrs):
        self._client = client
        self._name = name
        self._attrs = attrs
        self.sid = None

    def __enter__(self):
        self.sid = self._client.start_span(self._name, self._attrs)
        return self.sid

    def __exit__(self, exc_type, exc, tb):
        self._client.end_span(self.sid, "ok" if exc_type is None else "error")
        return False


# ---------------------------------------------------------------------------------------------
# process-wide: signal handlers, atexit, fork

_clients = Instances()
_signal_clients = weakref.WeakSet()


def _default_handler(sig, handler):
    return handler == signal.SIG_DFL or (sig == signal.SIGINT and handler is signal.default_int_handler)


def _install_signal_handlers(client, mode):
    """mode None: only where nobody installed handlers yet (scripts); True: always (chaining)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    installed = False
    for sig in (signal.SIGINT, signal.SIGTERM):
        prev = signal.getsignal(sig)
        if getattr(prev, "_signalbox", False):
            installed = True
            continue
        if mode is None and not _default_handler(sig, prev):
            continue
        signal.signal(sig, _make_handler(prev))
        installed = True
    if installed:
        _signal_clients.add(client)
    return installed


def _make_handler(prev):
    def handler(signum, frame):
        for c in list(_signal_clients):
            c.close()
        if callable(prev):
            return prev(signum, frame)
        if prev == signal.SIG_IGN:
            return None
        # the default action (terminate): restore it and re-deliver the signal to ourselves
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return None
    handler._signalbox = True
    return handler


# ---------------------------------------------------------------------------------------------

class Monitoring:
    """A Signalbox client. See README.md for the full contract.

    ``Monitoring(source=None, host=None, port=None)``: missing values come from
    ``SIGNALBOX_SOURCE`` / ``SIGNALBOX_HOST`` / ``SIGNALBOX_PORT``, then defaults (the script's
    name, 127.0.0.1, 17000). ``socket_path`` (else ``SIGNALBOX_SOCKET`` when neither host nor
    port is given) sends over a Unix domain socket instead; ``host`` may also be ``unix:/path``.
    ``secret`` (else ``SIGNALBOX_SECRET``) is sent in the hello (``auth`` 1, ``token``);
    ``tls`` / ``ca_file`` / ``server_name`` (else ``SIGNALBOX_TLS*``) turn on verified TLS.
    """

    KNOWN_OPTIONS = ("source", "host", "port", "buffer_size", "heartbeat_interval", "backoff_initial",
                     "backoff_max", "connect_timeout", "close_timeout", "signal_handlers", "token", "env",
                     "socket_path", "secret", "tls", "ca_file", "server_name")

    def __init__(self, source=None, host=None, port=None, *, buffer_size=DEFAULT_BUFFER,
                 heartbeat_interval=10.0, backoff_initial=0.1, backoff_max=10.0,
                 connect_timeout=1.0, close_timeout=2.0, signal_handlers=None, token=None,
                 env=None, socket_path=None, secret=None, tls=None, ca_file=None, server_name=None,
                 **unknown):
        warn_unknown("Monitoring()", unknown, self.KNOWN_OPTIONS)
        env = os.environ if env is None else env
        self.source = source or env.get("SIGNALBOX_SOURCE") or _script_name()
        # socket_path, else host/port arguments (TCP), else SIGNALBOX_SOCKET, else SIGNALBOX_HOST/PORT
        if not socket_path and host is None and port is None:
            socket_path = env.get("SIGNALBOX_SOCKET") or None
        if socket_path:
            host = "unix:" + str(socket_path)
        self.host = host or env.get("SIGNALBOX_HOST") or DEFAULT_HOST
        self.socket_path = self.host[5:] if self.host.startswith("unix:") else (
            self.host if self.host.startswith("/") else None)
        try:
            self.port = int(port or env.get("SIGNALBOX_PORT") or DEFAULT_PORT)
        except ValueError:
            LOG.warning("signalbox: SIGNALBOX_PORT=%r is not a port; using %d",
                        env.get("SIGNALBOX_PORT"), DEFAULT_PORT)
            self.port = DEFAULT_PORT
        # token / SIGNALBOX_TOKEN: the names of SDK 0.1 for the secret
        self._secret = next((v for v in (secret, token, env.get("SIGNALBOX_SECRET"), env.get("SIGNALBOX_TOKEN"))
                             if v is not None and v != ""), None)
        ca_file = ca_file or env.get("SIGNALBOX_TLS_CA_FILE") or None
        if tls is None:
            tls = env.get("SIGNALBOX_TLS")
            tls = (tls.strip().lower() not in _FALSE) if tls is not None else bool(ca_file)
        self.tls = bool(tls)
        if self.tls and self.socket_path:
            warnings.warn("monitoring_sdk: TLS is for TCP; the Unix domain socket %s is used without it"
                          % self.socket_path, SignalboxOptionWarning, stacklevel=2)
            self.tls = False
        self.server_name = server_name or env.get("SIGNALBOX_TLS_SERVER_NAME") or self.host
        self._tls_context = _tls_context(ca_file) if self.tls else None
        self.where = "unix:" + self.socket_path if self.socket_path else "%s:%s" % (self.host, self.port)
        self.capacity = max(1, int(buffer_size))
        self.heartbeat_interval = float(heartbeat_interval or 0)
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.connect_timeout = float(connect_timeout)
        self.close_timeout = float(close_timeout)
        self._head = '{"v":1,"src":' + _jstr(str(self.source)) + ',"ts":'
        itid, isid = parse_trace_env(env)
        self._inh = (itid, _jstr(itid) if itid else None, isid, _jstr(isid) if isid else None)
        self._ctx = {}
        self._ctxstate = ("", None, None)  # (',"ctx":{…}' or '', job tid, job tid as JSON)
        self._nospan = (None, "")  # (context state, ids fragment outside any span)
        self._ctx_lock = threading.Lock()
        self._spans = contextvars.ContextVar("signalbox_spans_%x" % id(self), default=())
        self._open = {}
        self._closed = False
        self._init_runtime()
        _clients.add(self)
        self.signal_handlers = False
        if signal_handlers is not False:
            try:
                self.signal_handlers = _install_signal_handlers(self, signal_handlers)
            except (ValueError, OSError) as e:  # not the main thread of the main interpreter
                LOG.debug("signalbox: no signal handlers: %s", e)
        self._thread.start()

    def _init_runtime(self):
        self._buf = deque()
        self._rng = random.Random()
        self._overflow_lock = threading.Lock()
        self._dropped = 0
        self._sent = 0
        self._auth_failures = 0
        self._last_error = None
        self._verdict = False      # a connection was refused: later ones wait for the verdict too
        self._refused_auth = False  # the last connection was refused as unauthorized: longest backoff
        self._said = (None, 0.0)    # (what, when) was last logged by _report
        self._rbuf = b""
        self._unsent_at_close = 0
        self._connects = 0
        self._sock = None
        self._poll = None
        self._idle = False
        self._wake = threading.Event()
        self._closing = False
        self._close_deadline = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="signalbox-sender", daemon=True)

    def _reset_after_fork(self):
        """In a forked child: forget the parent's connection and buffer, start a new sender."""
        sock = self._sock
        if sock is not None:
            try:
                sock.close()  # the fd only: no shutdown, the parent's connection stays intact
            except OSError:
                pass
        self._ctx_lock = threading.Lock()
        closed = self._closed
        self._init_runtime()
        if not closed:
            self._thread.start()

    # -- state -------------------------------------------------------------------------------
    @property
    def state(self):
        if self._closed:
            return State.CLOSED
        if len(self._buf) >= self.capacity:
            return State.OVERFLOW
        return State.CONNECTED if self._sock is not None else State.DISCONNECTED

    def stats(self):
        """Counters: sent, dropped (buffer full), buffered, connects, unsent_at_close, state,
        auth_failures (connections the sidecar refused as unauthorized), last_error."""
        return {"sent": self._sent, "dropped": self._dropped, "buffered": len(self._buf),
                "connects": self._connects, "unsent_at_close": self._unsent_at_close,
                "state": self.state, "auth_failures": self._auth_failures, "last_error": self._last_error}

    @property
    def auth_failures(self):
        """How many connections the sidecar refused as ``unauthorized`` (wrong or missing secret)."""
        return self._auth_failures

    @property
    def last_error(self):
        """The sidecar's reason of the last refusal (``bad_secret``, ``no_secret``, …) or None."""
        return self._last_error

    @property
    def token(self):
        """True when a secret is configured (the secret itself is not readable here)."""
        return self._secret is not None

    # -- the hot path --------------------------------------------------------------------------
    def _append(self, line):
        buf = self._buf
        if len(buf) < self.capacity:
            buf.append(line)
        else:
            with self._overflow_lock:
                self._dropped += 1
        if self._idle:
            self._idle = False
            self._wake.set()

    def _top(self):
        stack = self._spans.get()
        if stack and not stack[-1].open:  # ended from another thread/context
            while stack and not stack[-1].open:
                stack = stack[:-1]
            self._spans.set(stack)
        return stack[-1] if stack else None

    def _ids(self, ctxstate):
        """',"tid":…,"sid":…' plus the context fragment, for a non-span message; cached per
        (innermost span, context state), so a call normally builds no string here."""
        top = self._top()
        if top is not None:
            cache = top.cache
            if cache[0] is ctxstate:
                return cache[1]
            tidj = ctxstate[2] or top.tidj
            sidj = top.sidj
        else:
            cache = self._nospan
            if cache[0] is ctxstate:
                return cache[1]
            inh = self._inh
            tidj = ctxstate[2] or inh[1]
            sidj = inh[3]
        frag = ',"tid":' + tidj if tidj else ""
        if sidj:
            frag += ',"sid":' + sidj
        frag += ctxstate[0]
        if top is not None:
            top.cache = (ctxstate, frag)
        else:
            self._nospan = (ctxstate, frag)
        return frag

    def log_event(self, level, msg, ctx=None):
        """An ``event``: ``level`` (info, warn, error, …), ``msg``, optional ``ctx`` mapping."""
        if self._closed:
            return
        try:
            if ctx:
                data = '{"level":%s,"msg":%s,"ctx":%s}' % (_str(level), _str(msg), _json(ctx))
            else:
                data = '{"level":%s,"msg":%s}' % (_str(level), _str(msg))
            self._append('%s%d,"type":"event"%s,"data":%s}\n'
                         % (self._head, int(_time() * 1000), self._ids(self._ctxstate), data))
        except Exception as e:  # never into the caller
            _internal_error(e)

    def log_metric(self, name, value, unit=None, tags=None):
        """A ``metric``: ``name``, numeric ``value``, optional ``unit`` and ``tags`` mapping."""
        if self._closed:
            return
        try:
            data = '{"name":%s,"value":%s' % (_str(name), _num(value))
            if unit is not None:
                data += ',"unit":' + _str(unit)
            if tags:
                data += ',"tags":' + _json(tags)
            self._append('%s%d,"type":"metric"%s,"data":%s}}\n'
                         % (self._head, int(_time() * 1000), self._ids(self._ctxstate), data))
        except Exception as e:
            _internal_error(e)

    def log_progress(self, job_id, percent, status=None):
        """A ``progress`` message for ``job_id``: ``percent`` done, optional ``status``."""
        if self._closed:
            return
        try:
            data = '{"job_id":%s,"percent":%s' % (_str(_idtext(job_id)), _num(percent))
            if status is not None:
                data += ',"status":' + _str(status)
            self._append('%s%d,"type":"progress"%s,"data":%s}}\n'
                         % (self._head, int(_time() * 1000), self._ids(self._ctxstate), data))
        except Exception as e:
            _internal_error(e)

    def log_resource(self, cpu=None, mem=None, disk=None, net=None):
        """A ``resource`` sample; ``None`` fields are left out."""
        if self._closed:
            return
        try:
            parts = []
            if cpu is not None:
                parts.append('"cpu":' + _num(cpu))
            if mem is not None:
                parts.append('"mem":' + _num(mem))
            if disk is not None:
                parts.append('"disk":' + _num(disk))
            if net is not None:
                parts.append('"net":' + _num(net))
            self._append('%s%d,"type":"resource"%s,"data":{%s}}\n'
                         % (self._head, int(_time() * 1000), self._ids(self._ctxstate), ",".join(parts)))
        except Exception as e:
            _internal_error(e)

    def start_span(self, name, attrs=None, *, parent=None, trace_id=None):
        """Opens a span and returns its id (16 hex). Its parent is the innermost open span of
        this thread (or ``parent``); its trace the ``job_id`` context, else the parent's, else
        the inherited one, else a new trace id (or ``trace_id``). Nothing is written until
        ``end_span``."""
        try:
            rng = self._rng
            bits = rng.getrandbits(64) or 1
            sid = "%016x" % bits
            top = self._top()
            if parent is not None:
                pidj = _jstr(_idtext(parent))
            elif top is not None:
                pidj = top.sidj
            else:
                pidj = self._inh[3]
            ctxstate = self._ctxstate
            if trace_id is not None:
                tid = _idtext(trace_id)
                tidj = _jstr(tid)
            elif ctxstate[1] is not None:
                tid, tidj = ctxstate[1], ctxstate[2]
            elif top is not None:
                tid, tidj = top.tid, top.tidj
            elif self._inh[0] is not None:
                tid, tidj = self._inh[0], self._inh[1]
            else:
                tid = "%032x" % (rng.getrandbits(128) or 1)
                tidj = '"' + tid + '"'
            if self._closed:
                return sid
            span = _Span(sid, tid, tidj, pidj, _str(name), int(_time() * 1000), attrs)
            opened = self._open
            opened[sid] = span
            if len(opened) > _MAX_OPEN_SPANS:  # spans nobody ends must not grow without bound
                try:
                    opened.pop(next(iter(opened))).open = False
                except (StopIteration, KeyError, RuntimeError):
                    pass  # another thread removed it first
            self._spans.set(self._spans.get() + (span,))
            return sid
        except Exception as e:
            _internal_error(e)
            return "%016x" % (random.getrandbits(64) or 1)

    def end_span(self, span_id, status="ok"):
        """Ends the span (wherever it is in the nesting) and writes it; ``None`` status = ok.
        Unknown or already ended ids are ignored."""
        try:
            span = self._open.pop(span_id, None)
            if span is None:
                return
            span.open = False
            stack = self._spans.get()
            if stack:
                if stack[-1] is span:
                    self._spans.set(stack[:-1])
                elif span in stack:
                    self._spans.set(tuple(s for s in stack if s is not span))
            if self._closed:
                return
            end = int(_time() * 1000)
            ctxstate = self._ctxstate
            ids = ',"tid":' + span.tidj + ',"sid":' + span.sidj
            if span.pidj:
                ids += ',"pid":' + span.pidj
            attrs = span.attrs
            data = '{"name":%s,"status":%s,"start":%d,"end":%d%s}' % (
                span.namej, _str("ok" if status is None else status), span.start, end,
                ',"attrs":' + _json(attrs) if attrs else "")
            self._append('%s%d,"type":"span"%s%s,"data":%s}\n'
                         % (self._head, end, ids, ctxstate[0], data))
        except Exception as e:
            _internal_error(e)

    def span(self, name, attrs=None):
        """Context manager: ``with client.span("load") as span_id:``; status ``error`` when
        the block raises (the exception propagates)."""
        return _SpanScope(self, name, attrs)

    def set_context(self, key, value):
        """Adds ``key`` to the context of every following message (``None`` removes it).
        ``job_id`` also becomes the trace id."""
        if self._closed:
            return
        try:
            with self._ctx_lock:
                ctx = dict(self._ctx)
                if value is None:
                    ctx.pop(str(key), None)
                else:
                    ctx[str(key)] = value
                self._ctx = ctx
                job = ctx.get("job_id")
                jtid = None if job is None else _idtext(job)
                self._ctxstate = (',"ctx":' + _json(ctx) if ctx else "", jtid,
                                  _jstr(jtid) if jtid else None)
        except Exception as e:
            _internal_error(e)

    @property
    def context(self):
        return dict(self._ctx)

    # -- trace propagation -----------------------------------------------------------------------
    def current_trace(self):
        """``(trace_id, span_id)`` an event logged now would carry (either may be None)."""
        top = self._top()
        job = self._ctxstate[1]
        if top is not None:
            return (job or top.tid, top.sid)
        return (job or self._inh[0], self._inh[2])

    def trace_env(self):
        """``{"SIGNALBOX_TRACE": …, "TRACEPARENT": …}``; None = must not be set in the child."""
        return format_trace_env(*self.current_trace())

    def child_env(self, base=None):
        """A copy of ``base`` (default ``os.environ``) for a child process: it continues this
        trace under the current span and talks to the same sidecar. Use with
        ``subprocess.run(…, env=client.child_env())``."""
        env = dict(os.environ if base is None else base)
        for k, v in self.trace_env().items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        if self.socket_path:
            env.setdefault("SIGNALBOX_SOCKET", self.socket_path)
        else:
            env.setdefault("SIGNALBOX_HOST", self.host)
            env.setdefault("SIGNALBOX_PORT", str(self.port))
        return env

    # -- lifecycle ---------------------------------------------------------------------------------
    def flush(self, timeout=2.0):
        """Waits until everything buffered has been written (True) or ``timeout`` s passed."""
        deadline = _monotonic() + timeout
        while self._buf and not self._done.is_set():
            if _monotonic() >= deadline:
                return False
            if self._idle:
                self._idle = False
                self._wake.set()
            time.sleep(0.002)
        return not self._buf

    def close(self, timeout=None):
        """Flushes (up to ``timeout``, default ``close_timeout`` s), writes ``goodbye``
        {sent, dropped}, closes. Later calls are ignored; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        timeout = self.close_timeout if timeout is None else float(timeout)
        self._close_deadline = _monotonic() + timeout
        self._closing = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout + 1.0)
        _clients.discard(self)
        _signal_clients.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    # -- the sender thread -------------------------------------------------------------------------
    def _line(self, type_, data):
        return '%s%d,"type":"%s","data":%s}\n' % (self._head, int(_time() * 1000), type_, data)

    def _run(self):
        backoff = self.backoff_initial
        next_attempt = 0.0
        hb = self.heartbeat_interval
        next_hb = _monotonic() + hb if hb > 0 else None
        tried_at_close = False
        failures = 0
        while True:
            try:
                if self._closing and _monotonic() >= self._close_deadline:
                    break
                if self._sock is None:
                    if self._closing:
                        # one more immediate attempt, then give up: a script must not hang at exit
                        if tried_at_close or not self._connect():
                            break
                        tried_at_close = True
                        continue
                    now = _monotonic()
                    if now < next_attempt:
                        self._sleep(next_attempt - now, wakeable=False)
                        continue
                    if self._connect():
                        backoff = self.backoff_initial
                    elif self._refused_auth:  # retrying soon would not help: the secret must change
                        self._refused_auth = False
                        next_attempt = _monotonic() + self.backoff_max
                        backoff = self.backoff_max
                    else:
                        next_attempt = _monotonic() + backoff * (0.8 + 0.4 * self._rng.random())
                        backoff = min(backoff * 2, self.backoff_max)
                    continue
                if next_hb is not None and not self._closing:
                    now = _monotonic()
                    if now >= next_hb:  # also between batches: drops are reported under load
                        self._send_control(self._line("heartbeat", '{"buffered":%d,"dropped":%d}'
                                                      % (len(self._buf), self._dropped)))
                        next_hb = now + hb
                        continue
                if self._buf:
                    self._send_batch()
                    continue
                if self._closing:
                    self._send_control(self._line("goodbye", '{"sent":%d,"dropped":%d}'
                                                  % (self._sent, self._dropped)))
                    break
                self._sleep(next_hb - _monotonic() if next_hb is not None else 60.0)
            except Exception as e:  # a bug must not stop delivery for good: log, back off, go on
                failures += 1
                if failures <= 3 or failures % 1000 == 0:
                    LOG.warning("signalbox: sender error %d: %r", failures, e)
                self._disconnect()
                if self._closing:
                    break
                self._sleep(min(self.backoff_max, 0.1 * failures), wakeable=False)
        self._unsent_at_close = len(self._buf)
        self._disconnect(graceful=True)
        self._done.set()

    def _sleep(self, seconds, wakeable=True):
        """Waits for new messages (wakeable: the next append sets the event) or, while backing
        off, only for close() or the timeout: appends then cost the caller nothing extra."""
        if wakeable:
            self._idle = True
            if not self._buf and not self._closing:
                self._wake.wait(seconds)
            self._idle = False
        elif not self._closing:
            self._wake.wait(seconds)
        self._wake.clear()

    def _connect(self):
        try:
            if self.socket_path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.connect_timeout)
                try:
                    sock.connect(self.socket_path)
                except OSError:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._tls_context is not None:
                    try:
                        sock = self._tls_context.wrap_socket(sock, server_hostname=self.server_name)
                    except (OSError, ValueError) as e:
                        sock.close()
                        self._report("tls:%s" % type(e).__name__,
                                     "signalbox: TLS with %s failed: %s; %d messages buffered, retrying",
                                     self.where, e, len(self._buf))
                        return False
            sock.settimeout(1.0)
        except OSError as e:
            LOG.debug("signalbox: connect to %s failed: %s", self.where, e)
            return False
        self._sock = sock
        self._rbuf = b""
        if hasattr(select, "poll"):
            p = select.poll()
            p.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
            self._poll = p
        hello = '{"sdk":"%s","version":"%s"' % (SDK_NAME, __version__)
        if self._secret is not None:  # docs/protocol.md, "Authentication", handshake version 1
            hello += ',"auth":1,"token":' + _str(self._secret)
        if not self._send_control(self._line("hello", hello + "}")):
            return False
        if (self._secret is not None or self._verdict) and not self._await_verdict():
            return False
        self._connects += 1
        return True

    def _await_verdict(self):
        """The sidecar never acknowledges a hello, it only refuses one (an error line, then EOF):
        no message is written until _VERDICT_WAIT passed without a refusal."""
        deadline = _monotonic() + _VERDICT_WAIT
        while True:
            left = deadline - _monotonic()
            if left <= 0:
                return True
            if self._closing and _monotonic() >= self._close_deadline:
                return True  # close() must not wait longer than it said; _run gives up anyway
            try:
                r, _, _ = select.select([self._sock], [], [], min(left, 0.05))
            except (OSError, ValueError):
                self._disconnect()
                return False
            if r and not self._alive():
                self._disconnect()
                return False

    def _report(self, what, msg, *args):
        """WARN once per kind of trouble, again when it changes, else at most once a minute."""
        now = _monotonic()
        if self._said[0] == what and now - self._said[1] < _REPORT_EVERY:
            LOG.debug(msg, *args)
            return
        self._said = (what, now)
        LOG.warning(msg, *args)

    def _answer(self, line):
        """The one line a sidecar writes, before it closes the connection (docs/protocol.md)."""
        try:
            msg = json.loads(line.decode("utf-8", "replace"))
        except ValueError:
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("error"), str):
            return
        reason = msg.get("reason") if isinstance(msg.get("reason"), str) else "unknown"
        self._last_error = reason
        self._verdict = True
        if msg["error"] == "unauthorized":
            self._auth_failures += 1
            self._refused_auth = True
            self._report("auth:" + reason, "signalbox: the sidecar at %s refused the connection: unauthorized (%s)%s; "
                         "%d messages kept in the buffer, retrying in %s s", self.where, reason,
                         "" if self._secret is not None else "; no secret is set (secret=, SIGNALBOX_SECRET)",
                         len(self._buf), self.backoff_max)
        else:
            self._report("refused:" + reason, "signalbox: the sidecar at %s closed the connection: %s (%s); retrying",
                         self.where, msg["error"], reason)

    def _disconnect(self, graceful=False):
        sock, self._sock, self._poll = self._sock, None, None
        if sock is None:
            return
        try:
            if graceful:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the peer is gone already: close() below is all that is left to do
        try:
            sock.close()
        except OSError as e:
            LOG.debug("signalbox: close failed: %s", e)

    def _alive(self):
        """False when the peer has closed the connection (checked before every write)."""
        sock = self._sock
        try:
            if self._poll is not None:
                events = self._poll.poll(0)
                if not events:
                    return True
                ev = events[0][1]
                broken = bool(ev & (select.POLLERR | select.POLLNVAL | select.POLLHUP))
                if not ev & select.POLLIN and not broken:
                    return True
            else:
                r, _, _ = select.select([sock], [], [], 0)
                if not r:
                    return True
                broken = False
            # also on an error: a refusal line can wait in the socket ahead of the reset that a
            # message written after the hello caused
            try:
                data = self._read_now(sock)
            except OSError:
                data, broken = b"", True
            if data:
                self._rbuf += data
                while b"\n" in self._rbuf:
                    line, self._rbuf = self._rbuf.split(b"\n", 1)
                    self._answer(line)
                self._rbuf = self._rbuf[-8192:]
            if data == b"" or broken:  # closed: an error line sent before may lack its newline
                if self._rbuf:
                    self._answer(self._rbuf)
                    self._rbuf = b""
                return False
            return True
        except OSError:
            return False

    @staticmethod
    def _read_now(sock):
        """What the sidecar sent, without waiting: None (nothing), b"" (closed) or bytes. A TLS
        socket may be readable for records that carry no data (session tickets)."""
        sock.settimeout(0)
        try:
            for _ in range(16):  # a TLS read may consume only a non-data record: read on while readable
                try:
                    return sock.recv(4096)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    if not select.select([sock], [], [], 0)[0]:
                        return None
            return None
        finally:
            sock.settimeout(1.0)

    def _send_control(self, line):
        """hello / heartbeat / goodbye: not buffered, not counted."""
        try:
            if not self._alive():
                raise ConnectionResetError("closed by peer")
            self._sock.sendall(line.encode("utf-8"))
            return True
        except OSError as e:
            LOG.debug("signalbox: write failed: %s", e)
            self._disconnect()
            return False

    def _send_batch(self):
        if not self._alive():
            self._disconnect()
            return
        buf = self._buf
        lines = []
        size = 0
        n = min(len(buf), _BATCH_LINES)
        for i in range(n):
            line = buf[i]
            lines.append(line)
            size += len(line)
            if size >= _BATCH_BYTES:
                break
        data = "".join(lines).encode("utf-8")
        view = memoryview(data)
        off = 0
        total = len(data)
        sock = self._sock
        while off < total:
            try:
                off += sock.send(view[off:])
            except socket.timeout:
                if self._closing and _monotonic() >= self._close_deadline:
                    self._done_lines(lines, off)
                    self._disconnect()
                    return
            except InterruptedError:
                continue
            except OSError as e:
                LOG.debug("signalbox: write failed: %s", e)
                self._done_lines(lines, off)
                self._disconnect()
                return
        self._done_lines(lines, off)

    def _done_lines(self, lines, off):
        """Removes the lines handed to the kernel; the rest stays for the replay. A line that
        lacks only its '\n' counts as written: the sidecar decodes a last line without one when
        the connection ends, so writing it again could duplicate it. A line cut earlier is
        incomplete JSON (dropped by the sidecar) and is written again whole."""
        popleft = self._buf.popleft
        k = 0
        for line in lines:
            off -= len(line)
            if off < -1:
                break
            popleft()
            k += 1
        self._sent += k


def _tls_context(ca_file):
    """Verified TLS 1.2+: the server certificate against ``ca_file`` (PEM) or the system's
    trust store, and its name against server_name."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _script_name():
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
    name = os.path.basename(argv0)
    if name.endswith(".py"):
        name = name[:-3]
    return name or "python"


_last_error = [0.0, 0]


def _internal_error(e):
    """An SDK bug or an unusable argument: logged at most once a minute, never raised."""
    now = _monotonic()
    _last_error[1] += 1
    if now - _last_error[0] >= 60.0:
        LOG.warning("signalbox: call ignored (%d in the last minute): %r", _last_error[1], e)
        _last_error[0] = now
        _last_error[1] = 0
