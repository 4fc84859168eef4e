"""Signalbox SDK for Python (standard library only).

    from monitoring_sdk import Monitoring, Monitored

    with Monitoring("nightly-import") as mon:
        mon.set_context("job_id", "job-42")
        with mon.span("load"):
            mon.log_event("info", "loading", {"file": "a.csv"})
            mon.log_metric("rows", 1200, "count")

The contract (DESIGN.md §3) is the same in Perl and Java; see README.md.

The HTTP design of seed 003 is here too, as written there:

    from monitoring_sdk import AppRef, Monitored, SidecarEmitter

    app = AppRef(app_id=uuid4(), name='my-app', version='1.0.0')
    emitter = SidecarEmitter(base_url='http://localhost:17001')
    with Monitored(site_id='site1', app=app, entity_type='job',
                   business_key='daily-batch', emitter=emitter):
        process_data()
"""
from ._options import SignalboxOptionWarning
from .client import Monitoring, State, SDK_NAME, __version__, parse_trace_env, format_trace_env
from .monitored import Monitored, TcpMonitored
from .emitter import SidecarEmitter
from .job import AppRef, JobMonitored, current_job

__all__ = ["Monitoring", "Monitored", "State", "init", "get_client", "SDK_NAME", "__version__",
           "parse_trace_env", "format_trace_env", "AppRef", "SidecarEmitter", "TcpMonitored",
           "JobMonitored", "SignalboxOptionWarning", "current_job"]

import threading as _threading

_default = [None]
_default_lock = _threading.Lock()


def init(source=None, host=None, port=None, **options):
    """The contract's ``init``: creates (or replaces) the process-wide default client."""
    with _default_lock:
        old = _default[0]
        _default[0] = Monitoring(source, host, port, **options)
    if old is not None:
        old.close()
    return _default[0]


def get_client():
    """The default client, created from the environment on first use."""
    with _default_lock:
        if _default[0] is None:
            _default[0] = Monitoring()
        return _default[0]
