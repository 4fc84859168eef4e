"""``SidecarEmitter``: the HTTP side of the SDK (the design of seed 003).

Messages (protocol v1 objects) are encoded on the caller's thread and appended to a bounded
in-memory queue; one daemon thread posts them in batches to the sidecar's HTTP ingest
``POST {base_url}/v1/events/batch`` (one JSON object per line). While the sidecar cannot be
reached, the thread appends everything, in order, to a bounded local spool file and replays it
from the start once a post succeeds again; new messages go behind the spool, so order holds.
Nothing here blocks or raises into the application; whatever does not fit is counted.
"""
import errno
import hashlib
import json
import logging
import os
import random
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque

from ._lifecycle import Instances
from ._options import warn_unknown
from .client import _json, _script_name

try:
    import fcntl as _fcntl
except ImportError:  # Windows: no advisory locks, the spool path must not be shared
    _fcntl = None

__all__ = ["SidecarEmitter", "DEFAULT_BASE_URL", "BATCH_PATH"]

LOG = logging.getLogger("monitoring_sdk.emitter")

DEFAULT_BASE_URL = "http://127.0.0.1:17001"  # Signalbox's HTTP port (DESIGN.md §5); 17000 is TCP
BATCH_PATH = "/v1/events/batch"
DEFAULT_QUEUE = 10000
DEFAULT_SPOOL_BYTES = 64 * 1024 * 1024
_BATCH_BYTES = 256 * 1024  # well below the sidecar's default ingest.max.bytes of 1 MiB
_MAX_LINE = 65536  # the protocol's line limit: a longer message would be rejected as too_long

_time = time.time
_monotonic = time.monotonic

# -------------------------------------------------------------------------------------------------
# the spool: one message per line, appended at the end, replayed from a read position


class _MemorySpool:
    """The spool without a file (``spool_path=False``, or the file could not be opened):
    the same order and bound, lost when the process ends."""

    path = None

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._lines = deque()
        self._bytes = 0

    def pending(self):
        return len(self._lines)

    def append(self, lines):
        """Appends what fits; returns how many were dropped (the newest ones)."""
        dropped = 0
        for line in lines:
            n = len(line) + 1
            if self._bytes + n > self.max_bytes:
                dropped += 1
                continue
            self._lines.append(line)
            self._bytes += n
        return dropped

    def peek(self, count, max_bytes):
        out, size = [], 0
        for line in self._lines:
            if out and (len(out) >= count or size + len(line) + 1 > max_bytes):
                break
            out.append(line)
            size += len(line) + 1
        return out

    def consume(self, count):
        for _ in range(count):
            self._bytes -= len(self._lines.popleft()) + 1

    def close(self):
        pass


class _FileSpool:
    """A spool file (one UTF-8 JSON line per message) plus ``<path>.pos``, the byte offset of
    the first line not yet delivered. Held with an exclusive ``flock`` so two processes never
    share it. A spool left by an earlier run is replayed first. ``max_bytes`` bounds the
    undelivered bytes; delivered ones are compacted away when room is needed."""

    def __init__(self, path, max_bytes, private=False):
        self.path = path
        self.max_bytes = max_bytes
        self._private = private  # a per-process file: removed when it is empty at close
        self._pos_path = path + ".pos"
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, mode=0o700, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if _fcntl is not None:
                _fcntl.flock(self._fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
            self._load()
        except BaseException:
            os.close(self._fd)
            raise

    def _load(self):
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        end = data.rfind(b"\n") + 1
        if end != size:  # a line torn by a crash mid-write: not valid JSON, never sent
            os.ftruncate(self._fd, end)
            data = data[:end]
        pos = 0
        try:
            with open(self._pos_path, "rb") as f:
                pos = int(f.read().strip() or 0)
        except (OSError, ValueError):
            pos = 0
        if not 0 <= pos <= end or (pos and data[pos - 1:pos] != b"\n"):
            LOG.warning("signalbox: spool %s: read position %d unusable, replaying it whole", self.path, pos)
            pos = 0
        self._pos = pos
        self._size = end
        self._count = data.count(b"\n", pos)
        if self._count:
            LOG.info("signalbox: spool %s holds %d undelivered messages from an earlier run", self.path, self._count)

    def pending(self):
        return self._count

    def append(self, lines):
        chunks, dropped = [], 0
        room = self.max_bytes - (self._size - self._pos)
        for line in lines:
            b = line.encode("utf-8") + b"\n"
            if len(b) > room and self._pos:
                self._compact()
                room = self.max_bytes - (self._size - self._pos) - sum(len(c) for c in chunks)
            if len(b) > room:
                dropped += 1
                continue
            chunks.append(b)
            room -= len(b)
        if chunks:
            data = b"".join(chunks)
            written = 0
            while written < len(data):  # os.write may write less than asked
                written += os.pwrite(self._fd, data[written:], self._size + written)
            self._size += len(data)
            self._count += len(chunks)
        return dropped

    def peek(self, count, max_bytes):
        data = os.pread(self._fd, max(max_bytes, _MAX_LINE + 1), self._pos)
        out, off = [], 0
        while len(out) < count:
            nl = data.find(b"\n", off)
            if nl < 0 or (out and nl + 1 > max_bytes):
                break
            out.append(data[off:nl].decode("utf-8", "replace"))
            off = nl + 1
        if not out and self._count:  # a head line longer than the window (not written by this version): hand it over whole
            end = self._pos
            while True:
                chunk = os.pread(self._fd, 1 << 20, end)
                nl = chunk.find(b"\n")
                if nl >= 0 or not chunk:
                    end += nl + 1 if nl >= 0 else len(chunk)
                    break
                end += len(chunk)
            out.append(os.pread(self._fd, end - self._pos, self._pos).rstrip(b"\n").decode("utf-8", "replace"))
            off = end - self._pos
        self._peeked = off if len(out) else 0
        self._peeked_lines = len(out)
        return out

    def consume(self, count):
        """Marks the first ``count`` lines of the last ``peek`` delivered."""
        if count == self._peeked_lines:
            self._pos += self._peeked
        else:
            data = os.pread(self._fd, self._peeked, self._pos)
            off = 0
            for _ in range(count):
                off = data.index(b"\n", off) + 1
            self._pos += off
        self._count -= count
        self._peeked = self._peeked_lines = 0
        if self._count == 0:
            os.ftruncate(self._fd, 0)
            self._size = self._pos = 0
        elif self._pos > self.max_bytes:  # a long replay while new messages keep coming: the file stays < 2x the bound
            self._compact()
            return
        self._write_pos()

    def _write_pos(self):
        tmp = self._pos_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(self._pos))
        os.replace(tmp, self._pos_path)  # atomic: a crash leaves the old or the new position

    def _compact(self):
        """Moves the undelivered tail to the start of the file (its delivered head is dropped)."""
        tail = os.pread(self._fd, self._size - self._pos, self._pos)
        # the new position first: a crash in between replays delivered messages again, loses none
        self._pos = 0
        self._write_pos()
        os.pwrite(self._fd, tail, 0)
        os.ftruncate(self._fd, len(tail))
        self._size = len(tail)

    def close(self):
        try:
            if self._count == 0:
                # a shared path stays (empty): unlinking a file another process may have just
                # opened could leave that process spooling into a file nobody ever finds
                for p in (self._pos_path, self.path) if self._private else (self._pos_path,):
                    try:
                        os.remove(p)
                    except FileNotFoundError:
                        pass
            else:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)  # releases the lock


def _default_spool_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    d = os.path.join(base, "signalbox", "spool")
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
        if os.access(d, os.W_OK):
            return d
    except OSError:
        pass
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), "signalbox-spool-%d" % uid)


def _open_spool(path, max_bytes, base_url):
    """The spool file at ``path``, or the default one; a memory spool if no file can be used."""
    if path is False:
        return _MemorySpool(max_bytes)
    candidates = []
    if path:
        candidates.append(os.fspath(path))
    else:
        name = "%s-%s" % (_script_name(), hashlib.sha1(base_url.encode("utf-8")).hexdigest()[:8])
        d = _default_spool_dir()
        # the same script against the same sidecar reuses its spool (a leftover is replayed);
        # while another process of it holds the file, this one takes a file of its own
        candidates += [os.path.join(d, name + ".ndjson"), os.path.join(d, "%s-%d.ndjson" % (name, os.getpid()))]
    for i, p in enumerate(candidates):
        try:
            return _FileSpool(p, max_bytes, private=(i == 1))
        except OSError as e:
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) and p is not candidates[-1]:
                continue
            LOG.warning("signalbox: cannot use the spool file %s (%s): spooling in memory only", p, e)
    return _MemorySpool(max_bytes)


# -------------------------------------------------------------------------------------------------
# process-wide: close at exit, forget the parent's state in a forked child

_emitters = Instances()

_SENT, _REJECTED, _UNAVAILABLE = "sent", "rejected", "unavailable"


class SidecarEmitter:
    """Posts protocol v1 messages to the sidecar's HTTP ingest; see README.md.

    ``SidecarEmitter(base_url=None)``: ``base_url`` defaults to ``SIDECAR_URL``, then
    ``http://127.0.0.1:17001``.
    """

    KNOWN_OPTIONS = ("base_url", "timeout", "queue_size", "batch_size", "spool_path", "spool_max_bytes",
                     "backoff_initial", "backoff_max", "close_timeout", "env")

    def __init__(self, base_url=None, timeout=5.0, *, queue_size=DEFAULT_QUEUE, batch_size=500,
                 spool_path=None, spool_max_bytes=DEFAULT_SPOOL_BYTES, backoff_initial=0.1,
                 backoff_max=5.0, close_timeout=2.0, env=None, **unknown):
        warn_unknown("SidecarEmitter()", unknown, self.KNOWN_OPTIONS)
        env = os.environ if env is None else env
        self.base_url = str(base_url or env.get("SIDECAR_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.url = self.base_url + BATCH_PATH
        self.timeout = float(timeout)
        self.capacity = max(1, int(queue_size))
        self.batch_size = max(1, int(batch_size))
        self.spool_max_bytes = max(1, int(spool_max_bytes))
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.close_timeout = float(close_timeout)
        # a proxy from http_proxy must never stand between an application and its sidecar
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._spool_arg = spool_path
        self._spool = _open_spool(spool_path, self.spool_max_bytes, self.base_url)
        self._closed = False
        self._init_runtime()
        _emitters.add(self)
        if self._spool.pending():
            self._start()  # a spool left by an earlier run: deliver it even if nothing new comes

    def _init_runtime(self):
        self._queue = deque()
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._wake = threading.Event()
        self._idle = False
        self._busy = 0  # messages taken from the queue and not yet delivered or spooled
        self._closing = False
        self._close_deadline = None
        self._done = threading.Event()
        self._thread = None
        self._sent = 0
        self._rejected = 0
        self._dropped_queue = 0
        self._dropped_spool = 0
        self._spooled = 0
        self._posts = 0
        self._failures = 0
        self._reachable = None
        self._last_error = None
        self._unsent_at_close = 0

    def _reset_after_fork(self):
        """In a forked child: the parent's queue and spool file stay the parent's."""
        closed = self._closed
        self._spool = _MemorySpool(self.spool_max_bytes)  # the parent holds the file (and its lock)
        self._init_runtime()
        self._closed = closed

    def _start(self):
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="signalbox-http-sender", daemon=True)
                self._thread.start()

    # -- the caller's side ---------------------------------------------------------------------
    def emit(self, message):
        """Queues one protocol v1 message (a dict); never blocks, never raises. Returns False
        when it was dropped (queue full or emitter closed)."""
        if self._closed:
            return False
        try:
            line = _json(message)
        except Exception as e:  # _json does not raise; a broken dict subclass might
            LOG.warning("signalbox: message not encodable, dropped: %r", e)
            return False
        if len(line) > _MAX_LINE:  # ASCII-only JSON: characters are bytes
            with self._lock:
                self._rejected += 1  # the sidecar would reject it as too_long: never queued
            LOG.warning("signalbox: message of %d bytes over the protocol's %d-byte limit, not sent", len(line), _MAX_LINE)
            return False
        return self._enqueue(line)

    def _enqueue(self, line):
        if self._thread is None:
            self._start()
        q = self._queue
        if len(q) >= self.capacity:
            with self._lock:
                self._dropped_queue += 1
            return False
        q.append(line)
        if self._idle or len(q) >= self.capacity // 2:
            self._idle = False
            self._wake.set()
        return True

    def flush(self, timeout=5.0):
        """Waits until everything queued and spooled has been delivered (True) or ``timeout``
        seconds have passed (False). Delivery goes on in the background either way."""
        deadline = _monotonic() + float(timeout)
        while self._queue or self._busy or self._spool.pending():
            if self._done.is_set() or _monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.005)
        return True

    def close(self, timeout=None):
        """Delivers what it can for up to ``timeout`` (default ``close_timeout``) seconds, then
        stops the thread; what is left goes to the spool file, for the next run to replay.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        timeout = self.close_timeout if timeout is None else float(timeout)
        self._close_deadline = _monotonic() + timeout
        self._closing = True
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout + self.timeout + 1.0)
        if t is None or not t.is_alive():
            self._spool_rest()
            self._spool.close()
        _emitters.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    @property
    def spool_path(self):
        """The spool file in use (None: spooling in memory)."""
        return self._spool.path

    def stats(self):
        """Counters since creation: ``sent`` (accepted by the sidecar), ``rejected`` (refused
        by it as invalid: never retried), ``dropped_queue`` (queue full), ``dropped_spool``
        (spool full), ``dropped`` (both), ``spooled`` (ever written to the spool), and the
        current ``queued`` / ``spool_pending``; ``reachable`` after the last post."""
        return {"sent": self._sent, "rejected": self._rejected, "dropped": self._dropped_queue + self._dropped_spool,
                "dropped_queue": self._dropped_queue, "dropped_spool": self._dropped_spool,
                "spooled": self._spooled, "queued": len(self._queue), "spool_pending": self._spool.pending(),
                "posts": self._posts, "failures": self._failures, "reachable": self._reachable,
                "last_error": self._last_error, "unsent_at_close": self._unsent_at_close,
                "closed": self._closed}

    # -- the sender thread ----------------------------------------------------------------------
    def _take(self):
        self._busy = 1  # before the first pop: flush() must never see an empty queue and no batch
        q, out, size = self._queue, [], 0
        while q and len(out) < self.batch_size and size < _BATCH_BYTES:
            line = q.popleft()
            out.append(line)
            size += len(line) + 1
        return out

    def _to_spool(self, lines):
        if not lines:
            return
        dropped = self._spool.append(lines)
        with self._lock:
            self._spooled += len(lines) - dropped
            self._dropped_spool += dropped
        if dropped:
            LOG.warning("signalbox: spool full (%d bytes): %d messages dropped", self.spool_max_bytes, dropped)

    def _spool_rest(self):
        while self._queue:
            batch = self._take()
            try:
                self._to_spool(batch)
            finally:
                self._busy = 0
        self._unsent_at_close = self._spool.pending()

    def _run(self):
        backoff = self.backoff_initial
        next_attempt = 0.0
        tried_at_close = False
        failures = 0
        while True:
            try:
                closing = self._closing
                if closing and _monotonic() >= self._close_deadline:
                    break
                if self._spool.pending():
                    # degraded or replaying: everything new goes behind the spool
                    while self._queue:
                        batch = self._take()
                        try:
                            self._to_spool(batch)
                        finally:
                            self._busy = 0
                    now = _monotonic()
                    if now < next_attempt and not (closing and not tried_at_close):
                        self._wait(min(next_attempt - now, 0.5), idle=False)
                        continue
                    tried_at_close = tried_at_close or closing
                    batch = self._spool.peek(self.batch_size, _BATCH_BYTES)
                    done = self._deliver(batch)
                    if done:
                        self._spool.consume(done)
                    if done < len(batch):
                        if closing:
                            break
                        next_attempt = _monotonic() + backoff * (0.8 + 0.4 * self._rng.random())
                        backoff = min(backoff * 2, self.backoff_max)
                    else:
                        backoff = self.backoff_initial
                    continue
                if self._queue:
                    batch = self._take()
                    try:
                        done = self._deliver(batch)
                        if done < len(batch):
                            self._to_spool(batch[done:])  # the spool was empty: these are the oldest
                            if closing:
                                break
                            next_attempt = _monotonic() + backoff * (0.8 + 0.4 * self._rng.random())
                            backoff = min(backoff * 2, self.backoff_max)
                        else:
                            backoff = self.backoff_initial
                    finally:
                        self._busy = 0
                    continue
                if closing:
                    break
                self._wait(30.0, idle=True)
            except Exception as e:  # a bug must not stop delivery for good: log, back off, go on
                failures += 1
                if failures <= 3 or failures % 1000 == 0:
                    LOG.warning("signalbox: HTTP sender error %d: %r", failures, e)
                if self._closing:
                    break
                self._wait(min(self.backoff_max, 0.1 * failures), idle=False)
        try:
            self._spool_rest()
        except Exception as e:
            LOG.warning("signalbox: could not spool the rest at close: %r", e)
        self._done.set()

    def _wait(self, seconds, idle):
        if idle:
            self._idle = True
            if not self._queue and not self._closing:
                self._wake.wait(seconds)
            self._idle = False
        elif not self._closing:
            self._wake.wait(seconds)
        self._wake.clear()

    def _deliver(self, batch):
        """Posts ``batch``; returns how many of its first lines are done with (accepted or
        rejected by the sidecar). A 413 splits the batch; a lone line that is too large is
        rejected."""
        if not batch:
            return 0
        result = self._post(batch)
        if result == _SENT or result == _REJECTED:
            return len(batch)
        if result == 413:
            if len(batch) == 1:
                with self._lock:
                    self._rejected += 1
                LOG.warning("signalbox: the sidecar refuses a message of %d bytes as too large", len(batch[0]))
                return 1
            half = len(batch) // 2
            done = self._deliver(batch[:half])
            if done < half:
                return done
            return half + self._deliver(batch[half:])
        return 0

    def _probe(self):
        """Before the first post and after a failure: ``GET /v1/health`` must get an HTTP
        answer (any status). A peer that is not HTTP (003's ``localhost:17000`` is Signalbox's
        TCP port) would read a posted body as protocol lines and never answer: every retry
        would deliver the batch again. The probe's request lines are only malformed there."""
        req = urllib.request.Request(self.base_url + "/v1/health", method="GET")
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                resp.read()
                final = resp.geturl()
            self._follow_redirect(final)
            return True
        except urllib.error.HTTPError as e:
            e.close()
            return True
        except Exception as e:  # refused, timeout, no HTTP status line: nothing to post to
            why = "%s: %s" % (type(e).__name__, e)
            if isinstance(e, (TimeoutError, OSError)) and "refused" not in str(e).lower() or \
                    type(e).__name__ in ("BadStatusLine", "RemoteDisconnected"):
                why += " (no HTTP answer: is %s the sidecar's HTTP port? Signalbox serves HTTP on 17001, TCP on 17000)" \
                       % self.base_url
            self._unavailable(why)
            return False

    def _follow_redirect(self, final):
        """The probe was redirected (Signalbox's TCP port answers an HTTP request with a 307 to
        its HTTP address): post there from now on. A POST is never redirected by urllib, so the
        probe is where the emitter learns the address."""
        suffix = "/v1/health"
        if not final or not final.endswith(suffix):
            return
        base = final[:-len(suffix)]
        if base != self.base_url:
            LOG.info("signalbox: %s redirected to %s (the sidecar's HTTP address): posting there",
                     self.base_url, base)
            self.base_url = base
            self.url = base + BATCH_PATH

    def _post(self, batch):
        if self._reachable is not True and not self._probe():
            return _UNAVAILABLE
        body = ("\n".join(batch) + "\n").encode("utf-8")
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-ndjson"})
        self._posts += 1
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status = e.code
            try:
                text = e.read()
            except OSError:
                text = b""
            finally:
                e.close()
        except (OSError, ValueError) as e:  # refused, reset, timeout, DNS, a URL it cannot use
            return self._unavailable("%s: %s" % (type(e).__name__, e))
        except Exception as e:  # http.client errors that are no OSError (BadStatusLine from a non-HTTP peer)
            return self._unavailable("%s: %s" % (type(e).__name__, e))
        if status == 413:
            return 413
        if status in (200, 202, 400):
            accepted, rejected, first = _outcome(text, len(batch), status)
            with self._lock:
                self._sent += accepted
                self._rejected += rejected
            self._reachable = True
            if rejected:
                LOG.warning("signalbox: the sidecar rejected %d of %d messages (first: %s)",
                            rejected, len(batch), first)
            return _SENT if accepted else _REJECTED
        # 503 (pipeline full or stopping), 404 (no HTTP ingest at this URL), 5xx: try again later
        return self._unavailable("HTTP %d: %s" % (status, text[:200].decode("utf-8", "replace")))

    def _unavailable(self, why):
        self._failures += 1
        if self._reachable is not False:
            LOG.warning("signalbox: sidecar at %s unreachable (%s): spooling", self.url, why)
        self._reachable = False
        self._last_error = why
        return _UNAVAILABLE


def _outcome(text, n, status):
    """(accepted, rejected, first error) from the ingest's answer
    ``{"accepted":N,"rejected":M,"errors":[…]}``; without a usable body, all or nothing by status."""
    try:
        body = json.loads(text.decode("utf-8"))
        accepted, rejected = int(body["accepted"]), int(body["rejected"])
        errors = body.get("errors") or []
        return accepted, rejected, (errors[0] if errors else None)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return (n, 0, None) if status != 400 else (0, n, text[:200])
