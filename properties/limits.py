"""A time limit on every call into the implementation under test, and the line to the supervisor.

Every call pe-spec makes into code it does not own (importing the target, the factory, the
function it returns) runs inside ``implementation_call(what)``:

- With a time limit configured (``configure``; ``pe-spec check --call-timeout``, pytest
  ``--pe-call-timeout``, ``PE_CALL_TIMEOUT``), a one-shot ITIMER_REAL alarm raises
  ``CallTimeout`` in the main thread when the call overruns: a Python-level hang (``time.sleep``,
  a busy loop, a blocked lock) becomes a clean failure of the clause being checked.
- Under ``pe-spec check`` the checks run in a child process (pe_spec.harness.runner) that also reports
  each call's start and end to the parent (``connect``): the parent's watchdog kills a child
  stuck in native code that never returns to the interpreter, which no signal handler can stop.

``CallTimeout`` derives from BaseException, not Exception: a kernel's ``except Exception`` cannot
swallow it, and hypothesis does not shrink on it (shrinking would replay the hang again and again).
Per call this costs two setitimer calls, plus two tiny pipe writes under the supervisor: 5 us
and 13 us per call measured on a loaded 2-core machine (~4,000 calls in a full check).
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time

# The cap on any call (--call-timeout): a correct kernel's slowest call is its first
# torch.compile'd call, 41 s measured from a cold inductor cache on a loaded 2-core CPU.
DEFAULT_CALL_TIMEOUT = 300.0
ENV_CALL_TIMEOUT = "PE_CALL_TIMEOUT"
# Under the cap the limit adapts, so that a hang is reported within two minutes: the first call of
# each kind (importing, the factory, the kernel, its backward, a compiled kernel, a fresh
# interpreter) may take FIRST_CALL_LIMIT (it compiles, or builds a cache: 41 s at worst measured);
# a later one SLOWER_FACTOR x the slowest call of its kind so far, and at least MIN_CALL_LIMIT (a
# long-sequence call does more work than the short ones before it).
FIRST_CALL_LIMIT = 90.0
SLOWER_FACTOR = 20.0
MIN_CALL_LIMIT = 15.0
# A check's total time budget (--time-budget): four times the slowest correct check measured here
# (230 s, an adapter under Triton's interpreter; a bundled kernel's takes 31 s). Past it the check
# stops, and the clauses not verified make the verdict incomplete, never conformant.
DEFAULT_TIME_BUDGET = 900.0
# Once a call overran its limit the kernel has hung: the rest of the check is not run (reported as
# not verified) instead of costing one time limit per test.
MAX_TIMEOUTS = 1

# What each kind of call is called in messages.
CALLS = {"import": "importing the implementation", "factory": "the factory call",
         "kernel": "a call to the kernel function", "backward": "the kernel's backward pass",
         "compiled": "a call to the torch.compile'd kernel",
         "fresh": "the kernel's first call in a fresh interpreter"}
_START = {what: b"C" + what.encode() for what in CALLS}


class CallTimeout(BaseException):
    """A call into the implementation overran the time limit.

    ``report`` is the clause failure text (attached by the property harness, which knows the
    clause and the example); str() gives it when present.
    """

    def __init__(self, what: str, seconds: float, why: str = "") -> None:
        self.what, self.seconds = what, seconds
        self.report: str | None = None
        super().__init__(f"{CALLS.get(what, what)} exceeded the {format_seconds(seconds)} s time limit"
                         + (f" ({why})" if why else ""))

    @property
    def summary(self) -> str:
        return str(self.args[0])

    def __str__(self) -> str:
        return self.report or self.summary


def format_seconds(s: float) -> str:
    return f"{s:.3g}" if s < 100 else f"{s:.0f}"


class BudgetSpent(BaseException):
    """The check's time budget ran out during a call: the call is stopped, the test and the rest of
    the check are not run (reported as not verified, the verdict incomplete). Not a hang."""


_timeout: float | None = DEFAULT_CALL_TIMEOUT
_active: "implementation_call | None" = None
_channel: int | None = None
timeouts = 0   # calls that overran the limit in this process
hung = ""      # the first call that did: the test, the call and its limit, in words
memory_limit: int | None = None   # bytes this process may allocate (set by pe_spec.runner), for messages
_slowest: dict[str, float] = {}   # kind of call -> the slowest that returned, seconds
_deadline: float | None = None    # time.monotonic() past which the check's time budget is spent
_budget: float | None = None
budget_spent = False


def configure(timeout: float | None) -> None:
    """Set the cap on every call's time limit in seconds (None or 0: no limit)."""
    global _timeout
    _timeout = float(timeout) if timeout else None


def call_timeout() -> float | None:
    """The cap (--call-timeout); each call's own limit adapts below it (limit_for)."""
    return _timeout


def limit_for(what: str) -> tuple[float, str]:
    """The time limit of the next call of this kind, and how it was set (for the message)."""
    cap = _timeout
    if cap is None:
        return 0.0, ""
    slowest = _slowest.get(what)
    if slowest is None:
        limit, why = FIRST_CALL_LIMIT, "the limit of a first call"
    else:
        limit = max(MIN_CALL_LIMIT, SLOWER_FACTOR * slowest)
        why = (f"{SLOWER_FACTOR:g}x the slowest earlier one, {format_seconds(slowest)} s, and at least "
               f"{MIN_CALL_LIMIT:g} s")
    if limit >= cap:
        return cap, ""
    return limit, why + f"; --call-timeout caps it at {format_seconds(cap)} s"


def set_budget(seconds: float | None) -> None:
    """The check's total time budget from now (None or 0: none)."""
    global _deadline, _budget, budget_spent

    _budget = float(seconds) if seconds else None
    _deadline = time.monotonic() + _budget if _budget else None
    budget_spent = False


def budget_left() -> float | None:
    return None if _deadline is None else _deadline - time.monotonic()


def budget_text() -> str:
    return (f"not verified: not run, the check's time budget of {format_seconds(_budget or 0)} s was spent "
            "(--time-budget)")


_NOT_RUN = {"not verified: not run, the implementation had used up the memory": "memory",
            "not verified: not run, the kernel had hung": "hang",
            "not verified: not run, the check's time budget": "time budget"}


def not_run_kind(reason: str) -> str:
    """Why a skipped test did not run to the end ("memory", "hang", "time budget"), or ""."""
    return next((kind for prefix, kind in _NOT_RUN.items() if reason.startswith(prefix)), "")


def record_hang(where: str) -> None:
    global hung
    if not hung:
        hung = where


def parse_timeout(text: str | float | None) -> float | None:
    """A time limit from an option, the environment or an ini file; 0 or 'none' means no limit."""
    if text is None or text == "":
        return DEFAULT_CALL_TIMEOUT
    if isinstance(text, str) and text.strip().lower() in ("none", "off"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"a time limit must be a number of seconds, got {text!r}") from None
    if value < 0 or value != value:
        raise ValueError(f"a time limit must be a non-negative number of seconds, got {text!r}")
    return value or None


def exhausted() -> str | None:
    """Why the remaining tests are not run: MAX_TIMEOUTS calls overran the time limit, or the
    implementation used up the memory the check process may have."""
    global budget_spent
    if out_of_memory:
        return "not verified: not run, the implementation had used up the memory limit of the check process"
    if timeouts >= MAX_TIMEOUTS:
        return f"not verified: not run, the kernel had hung: {hung or 'a call exceeded its time limit'}"
    left = budget_left()
    if budget_spent or (left is not None and left <= 0):
        budget_spent = True
        return budget_text()
    return None


# ---- memory ----

class OutOfMemory(BaseException):
    """The implementation failed to allocate with the check process near its memory limit (it
    holds on to what it allocated). A BaseException for the same reasons as CallTimeout: no
    shrinking, which would only call the kernel again; the remaining tests are not run."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


out_of_memory = False
_reserve = None


def hold_reserve(size: int) -> None:
    """Reserve address space (untouched, so no physical memory) under the data limit, released
    when the implementation has used up the rest: pe-spec can still finish and report."""
    global _reserve
    import mmap

    try:
        _reserve = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except (OSError, ValueError, AttributeError):
        _reserve = None


def allocation_failure(e: BaseException) -> bool:
    text = str(e)
    return isinstance(e, MemoryError) or "allocate memory" in text or "bad_alloc" in text


def near_memory_limit(fraction: float = 0.75) -> bool:
    """Whether this process's data segment is close to memory_limit (Linux; False elsewhere)."""
    if not memory_limit:
        return False
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024 > fraction * memory_limit
    except (OSError, ValueError):
        pass
    return False


def ran_out_of_memory() -> None:
    """Record that the implementation used up the memory limit, and free the reserve."""
    global out_of_memory, _reserve
    out_of_memory = True
    if _reserve is not None:
        _reserve.close()
        _reserve = None


# ---- the line to the supervising parent (pe_spec.harness.supervisor) ----

def connect(fd: int) -> None:
    """Report calls and events to the parent on fd (the runner does this in the child)."""
    global _channel
    _channel = fd


def connected() -> bool:
    return _channel is not None


def _write(data: bytes) -> None:
    try:
        os.write(_channel, data)  # type: ignore[arg-type]
    except OSError:
        # The parent is gone (or the line was closed under us): nobody is left to report to.
        os._exit(70)


def send(event: dict) -> None:
    """One JSON event line to the parent; a no-op when not supervised."""
    if _channel is not None:
        _write(json.dumps(event, separators=(",", ":"), default=str).encode() + b"\n")


# ---- the time limit ----

# Once the limit is reached the alarm repeats at this interval until the call returns: the first
# CallTimeout may be swallowed (a kernel's bare except, or a signal handled while a gc callback
# runs, whose exceptions Python reports as unraisable and drops).
REPEAT = 0.25
_THIS_FILE = __file__


def _on_alarm(signum, frame) -> None:
    global timeouts, budget_spent
    call = _active
    if call is None or call.state not in ("armed", "fired"):
        return  # a late alarm after the call returned
    signal.setitimer(signal.ITIMER_REAL, REPEAT)
    if frame is not None and frame.f_code.co_filename == _THIS_FILE:
        return  # inside this module's own bookkeeping (the call is ending): not here
    if call.budget_cut:
        budget_spent = True
        call.state = "fired"
        raise BudgetSpent()
    if call.state == "armed":
        call.state = "fired"
        timeouts += 1
        if _channel is not None:
            _write(b"T\n")
    raise CallTimeout(call.what, call.seconds, call.why)


_MAIN_THREAD = threading.main_thread().ident
_CAN_ALARM = hasattr(signal, "setitimer")   # POSIX; elsewhere only pe-spec check's watchdog applies
_handler_installed = False


def _install_handler() -> None:
    """Install the SIGALRM handler once (signal.signal costs ~10 us, too much for every call). It
    does nothing outside a call; a test runner's own SIGALRM timer (pytest-timeout's signal
    method) cannot share the signal: use --pe-call-timeout 0 with it."""
    global _handler_installed
    signal.signal(signal.SIGALRM, _on_alarm)
    _handler_installed = True


class implementation_call:
    """Context manager around one call into the implementation; re-entrant (inner ones are free)."""

    __slots__ = ("what", "state", "seconds", "why", "budget_cut", "started", "extra")

    def __init__(self, what: str, *, extra: float = 0.0) -> None:
        self.what, self.extra = what, extra   # extra: seconds beyond the limit (a fresh interpreter's start)

    def __enter__(self) -> "implementation_call":
        global _active
        if _active is not None:
            self.state = "nested"
            return self
        limit, self.why = limit_for(self.what)
        left = budget_left()
        self.budget_cut = left is not None and (not limit or left < limit + self.extra)
        if self.budget_cut:
            limit, self.extra = max(left, 0.001), 0.0
        self.seconds = limit + self.extra if limit else 0.0
        self.state = "open"
        _active = self
        if _channel is not None:
            _write(_START.get(self.what, b"C" + self.what.encode()) + f" {self.seconds:g}\n".encode())
        if self.seconds and _CAN_ALARM and threading.get_ident() == _MAIN_THREAD:
            if not _handler_installed:
                _install_handler()
            self.state = "armed"
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type, *exc) -> bool:
        global _active
        state = self.state
        if state == "nested":
            return False
        if state in ("armed", "fired"):
            signal.setitimer(signal.ITIMER_REAL, 0)
        if _active is self:
            _active = None
        self.state = "done"
        if state != "fired" and exc_type is None:
            took = time.monotonic() - self.started
            _slowest[self.what] = max(_slowest.get(self.what, 0.0), took)
        if _channel is not None:
            _write(b"E\n")
        return False


def reset() -> None:
    """Drop any call left open (an exception raised between a call's end and its bookkeeping)."""
    global _active
    call = _active
    if call is not None and call.state in ("armed", "fired"):
        signal.setitimer(signal.ITIMER_REAL, 0)
        call.state = "done"
    _active = None
