"""`pe-spec check`'s side of the isolation: run the checks in a child, watch it, say what happened.

The child (pe_spec.harness.runner) runs the property checks against the implementation. This process
never imports the implementation (nor torch): it reads the child's event line, counts and keeps
a bounded tail of the child's stdout and stderr (what the implementation printed), and enforces
the watchdog:

- a call into the implementation still running ``limit + grace`` seconds after it began, its
  limit being the one the child announced for it (pe_properties.limits.limit_for: the child's own
  alarm should have stopped it at ``limit``: it is stuck in native code that never returns to the
  interpreter, or swallowed the alarm) -> the child is killed;
- no event at all for ``idle_limit`` between calls (a hang in code the implementation runs
  indirectly, such as a method of the tensor it returned) -> the child is killed.

Before a kill the child gets SIGUSR1 (faulthandler dumps every thread's Python stack to its
stderr, so the tail shows where it hung), then its whole process group gets SIGKILL.

A child that dies (segfault, os._exit, abort, the OOM killer) or is killed becomes an
``Incident``: the clause and dtype that were running, the call in flight, the last example drawn
and its reproduction command, the exit status or signal, and the tail of its output. The tests
that did not run are reported as such; the report is still written (by the caller).
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from pe_properties import limits

TAIL_BYTES = 64 * 1024       # kept per stream (the rest is counted, not stored)
IDLE_LIMIT = 60.0            # seconds without any event between calls, at least
DUMP_WAIT = 1.0              # seconds between asking for a stack dump and the kill


def idle_limit(call_timeout: float) -> float:
    """Seconds without any event between calls before the watchdog acts: IDLE_LIMIT, or what a first
    call may take (pe-spec's own code between calls is never slower)."""
    first = min(call_timeout, limits.FIRST_CALL_LIMIT)
    return max(IDLE_LIMIT, first + grace(first))


def grace(timeout: float) -> float:
    """How long past its time limit a call may take to unwind before the watchdog acts."""
    return max(5.0, 0.25 * timeout)


@dataclass
class Capture:
    """One of the child's output streams: every byte counted, only the last TAIL_BYTES kept."""

    name: str
    total: int = 0
    buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        self.buf += data
        if len(self.buf) > 2 * TAIL_BYTES:
            del self.buf[:-TAIL_BYTES]

    def tail_lines(self, lines: int = 12, width: int = 200) -> list[str]:
        """The last lines written; from a fatal-error stack dump (faulthandler), its first frames
        (the innermost: the implementation's) without the frames of pytest and pe-spec's runner."""
        text = bytes(self.buf[-TAIL_BYTES:]).decode("utf-8", "replace")
        dump = text.rfind("Fatal Python error")
        if dump < 0:
            dump = text.rfind("Current thread 0x")
        if dump >= 0:
            before = [l for l in text[:dump].splitlines() if l.strip()][-3:]
            body = [l for l in text[dump:].splitlines() if l.strip() and not _runner_frame(l)]
            return [_clip(l, width) for l in before + body][: lines + len(before)]
        return [_clip(l, width) for l in text.splitlines() if l.strip()][-lines:]

    def as_json(self) -> dict:
        return {"bytes": self.total, "tail": "\n".join(self.tail_lines(40, 400))}


# Frames of the machinery around the implementation in a stack dump: noise in a crash report.
_MACHINERY = ("/_pytest/", "/pluggy/", "/hypothesis/", "<frozen runpy>", "pe_spec/harness/runner.py",
              "pe_properties/engine.py")


def _runner_frame(line: str) -> bool:
    s = line.strip()
    return (s.startswith("File ") and any(m in s for m in _MACHINERY)) or s.startswith("Extension modules:")


def _clip(line: str, width: int) -> str:
    line = _printable(line)
    return line[:width] + ("..." if len(line) > width else "")

def _printable(s: str) -> str:
    return "".join(c if c.isprintable() or c == "\t" else "?" for c in s)


@dataclass
class Incident:
    """The child died or was killed before the checks finished."""

    kind: str                       # crash | timeout | stalled
    exit: str                       # "was killed by signal 11 (SIGSEGV)", "exited with status 3"
    nodeid: str | None = None       # the test that was running
    clause_id: str | None = None
    dtype: str | None = None
    call: str | None = None         # the call in flight: import | factory | kernel
    elapsed_s: float | None = None  # how long that call (or the silence) had lasted
    limit_s: float | None = None    # that call's time limit
    check_id: str | None = None
    example: str | None = None      # the last example drawn in that test, described
    reproduce: str | None = None

    def as_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Run:
    """Everything the child reported, and how it ended."""

    impl: dict | None = None
    load_error: str | None = None
    environment: dict | None = None
    items: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    done: dict | None = None
    diagnosis: list[dict] = field(default_factory=list)
    incident: Incident | None = None
    incident_text: str | None = None   # an incident outside any test, in words
    returncode: int | None = None
    stdout: Capture = field(default_factory=lambda: Capture("stdout"))
    stderr: Capture = field(default_factory=lambda: Capture("stderr"))
    # what is going on now
    running: str | None = None
    example: dict | None = None
    call: tuple[str, float, float] | None = None   # (kind, started, its time limit)
    alarm_fired: bool = False
    alarm_at_kill: bool = False   # the child's alarm had fired (it raised, and the call went on)

    @property
    def completed(self) -> bool:
        return self.done is not None and self.incident is None


class Supervisor:
    def __init__(self, spec: dict, *, call_timeout: float | None,
                 on_event: Callable[[Run, dict], None] | None = None) -> None:
        self.spec = spec
        self.call_timeout = call_timeout
        self.on_event = on_event or (lambda run, ev: None)
        self.run = Run()
        self._pending = b""
        self._last_event = time.monotonic()
        self._kill: tuple[str, float] | None = None   # (why, when asked)

    # ---- the child ----
    def execute(self) -> Run:
        read_fd, write_fd = os.pipe()
        spec = {**self.spec, "channel": write_fd}
        proc = subprocess.Popen([sys.executable, "-m", "pe_spec.harness.runner", json.dumps(spec)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                pass_fds=(write_fd,), start_new_session=True)
        os.close(write_fd)
        self.proc = proc
        try:
            self._pump(proc, read_fd)
        finally:
            # Interrupted (KeyboardInterrupt, SIGTERM) or done: nothing of the child's survives.
            self._kill_group(proc)
            proc.wait()
            for f in (proc.stdout, proc.stderr):
                f.close()
            os.close(read_fd)
        run = self.run
        run.returncode = proc.returncode
        if not run.completed and run.load_error is None:
            self._incident(proc.returncode)
            target, memory = self.spec["target"], self.spec.get("memory_limit")
            run.results = results_with_incident(run, target, self.call_timeout, memory)
            if run.incident.nodeid is None:   # outside any test: no result carries the message
                run.incident_text = incident_message(run, target, self.call_timeout, memory)
        return run

    def _pump(self, proc: subprocess.Popen, read_fd: int) -> None:
        sel = selectors.DefaultSelector()
        sinks = {read_fd: self._events, proc.stdout.fileno(): self.run.stdout.feed,
                 proc.stderr.fileno(): self.run.stderr.feed}
        for fd in sinks:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        exited_at = None
        while sel.get_map():
            for key, _ in sel.select(timeout=0.2):
                self._read(sel, key.fd, sinks[key.fd])
            if exited_at is None and _exited(proc):
                exited_at = time.monotonic()
            if exited_at is not None:
                # The child is gone; what it wrote is drained within a second (a grandchild that
                # inherited stdout must not keep us waiting).
                if time.monotonic() - exited_at > 1.0:
                    break
                continue
            self._watchdog(proc)
        for fd in list(sel.get_map()):
            self._read(sel, fd, sinks[fd], drain=True)
        sel.close()

    def _read(self, sel, fd: int, sink, drain: bool = False) -> None:
        # Draining stops after 4 MiB: something the child left behind may still be writing.
        for _ in range(64 if drain else 1):
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                sel.unregister(fd)
                return
            sink(data)

    # ---- events ----
    def _events(self, data: bytes) -> None:
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        now = time.monotonic()
        if self._kill is not None:
            # The watchdog has decided: what the child does in its last second (the stack-dump
            # signal may even wake a sleeping call) changes nothing of what is reported.
            return
        for line in lines:
            if not line:
                continue
            self._last_event = now
            tag = line[:1]
            if tag == b"C":
                what, _, limit = line[1:].decode(errors="replace").partition(" ")
                try:
                    seconds = float(limit) if limit else (self.call_timeout or 0.0)
                except ValueError:
                    seconds = self.call_timeout or 0.0
                self.run.call, self.run.alarm_fired = (what, now, seconds), False
            elif tag == b"E":
                self.run.call = None
            elif tag == b"T":
                self.run.alarm_fired = True
            elif tag == b"{":
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                self._event(ev)

    def _event(self, ev: dict) -> None:
        run = self.run
        kind = ev.get("ev")
        run.call = None   # any event means the child is back in pe-spec's code
        if kind == "loaded":
            run.impl = ev["impl"]
        elif kind == "load_error":
            run.load_error = ev["message"]
        elif kind == "environment":
            run.environment = ev["environment"]
        elif kind == "collected":
            run.items = ev["items"]
        elif kind == "test":
            run.running, run.example = ev["nodeid"], None
        elif kind == "example":
            run.example = ev
        elif kind == "result":
            run.results.append(ev["result"])
            if ev["result"]["nodeid"] == run.running:
                run.running = None
        elif kind == "diagnosis":
            run.diagnosis = ev["findings"]
        elif kind == "done":
            run.done = ev
        self.on_event(run, ev)

    # ---- the watchdog ----
    def _watchdog(self, proc: subprocess.Popen) -> None:
        now = time.monotonic()
        if self._kill is not None:
            if now - self._kill[1] > DUMP_WAIT:
                self._kill_group(proc)
            return
        if not self.call_timeout:
            return
        if self.run.call is not None:
            limit = self.run.call[2]
            if limit and now - self.run.call[1] > limit + grace(limit):
                self._request_kill(proc, "timeout")
        elif self.run.items and now - self._last_event > idle_limit(self.call_timeout):
            self._request_kill(proc, "stalled")

    def _request_kill(self, proc: subprocess.Popen, why: str) -> None:
        now = time.monotonic()
        self._kill = (why, now)
        self._killed = (why, self.run.call, now - (self.run.call[1] if self.run.call else self._last_event))
        self.run.alarm_at_kill = self.run.alarm_fired
        try:
            os.kill(proc.pid, signal.SIGUSR1)   # faulthandler: dump every thread's stack first
        except (ProcessLookupError, AttributeError):
            pass

    def _kill_group(self, proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # the child and anything it started
        except (ProcessLookupError, PermissionError):
            pass
        except AttributeError:   # no process groups (Windows)
            proc.kill()

    # ---- what happened ----
    def _incident(self, returncode: int | None) -> None:
        run = self.run
        killed = getattr(self, "_killed", None)
        if killed is not None:
            kind, call, elapsed = killed
        else:
            kind, call, elapsed = "crash", run.call, (time.monotonic() - run.call[1]) if run.call else None
        item = next((i for i in run.items if i["nodeid"] == run.running), None)
        ex = run.example if run.example and item else None
        run.incident = Incident(
            kind=kind, exit=describe_exit(returncode), nodeid=run.running,
            clause_id=item["clause_id"] if item else None, dtype=item["dtype"] if item else None,
            call=call[0] if call else None, elapsed_s=round(elapsed, 1) if elapsed is not None else None,
            limit_s=call[2] if call else None,
            check_id=ex["check"] if ex else None, example=ex["describe"] if ex else None,
            reproduce=ex["reproduce"] if ex else None)


def _exited(proc: subprocess.Popen) -> bool:
    """Whether the child has exited, without reaping it where the platform allows (Linux: its
    process group stays killable)."""
    if not hasattr(os, "waitid"):
        return proc.poll() is not None
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    if returncode == 0:
        return "exited with status 0 before the checks finished"
    return f"exited with status {returncode}"


def incident_message(run: Run, target: str, call_timeout: float | None, memory_limit: int | None) -> str:
    """The failure text of the test the incident interrupted (the uniform failure layout)."""
    from pe_spec.spec import clauses

    inc = run.incident
    assert inc is not None
    call = limits.CALLS.get(inc.call or "", "pe-spec's own code between implementation calls")
    t = limits.format_seconds(inc.limit_s or call_timeout or 0)
    if inc.kind == "timeout":
        why = ("the time limit's exception was raised in it and it went on (a kernel that catches "
               "BaseException?)" if run.alarm_at_kill else
               "it did not return to Python (native code that never returns, or signals blocked)")
        what = (f"{call} exceeded the {t} s time limit and {why}; the watchdog killed the check process "
                f"after {inc.elapsed_s:g} s")
    elif inc.kind == "stalled":
        what = (f"the check process showed no progress for {inc.elapsed_s:g} s outside any call the time limit "
                f"covers (a hang in code the implementation runs indirectly, such as a method of the tensor "
                f"it returned); the watchdog killed it")
    else:
        what = f"the implementation crashed the check process: it {inc.exit} during {call}"
        tail = bytes(run.stderr.buf[-TAIL_BYTES:])
        if memory_limit and any(m in tail for m in (b"MemoryError", b"allocate memory", b"std::bad_alloc")):
            what += (f"; it had run out of memory (the check process may use {memory_limit / 2**30:.3g} GiB: "
                     "--memory-limit)")
        elif inc.exit.endswith("(SIGKILL)"):
            what += "; a SIGKILL from outside usually means the system ran out of memory"
    lines = []
    if inc.clause_id:
        c = clauses.get(inc.clause_id)
        lines.append(f"[{c.id}] {c.level}: {c.statement}")
    lines.append(f"  {what}")
    if inc.example:
        lines.append(f"  counterexample: {inc.example}")
    if inc.reproduce:
        lines.append(f"  reproduce: {inc.reproduce}")
    elif inc.clause_id:
        lines.append(f"  reproduce: pe-spec check {_quote(target)} --clause {inc.clause_id}")
    for cap in (run.stderr, run.stdout):
        tail = cap.tail_lines()
        if tail:
            lines.append(f"  last output of the check process ({cap.name}, {cap.total} bytes in all):")
            lines += [f"    | {l}" for l in tail]
    return "\n".join(lines)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def results_with_incident(run: Run, target: str, call_timeout: float | None,
                          memory_limit: int | None) -> list[dict]:
    """The results the child sent, the interrupted test's failure, and every test that did not run."""
    results = list(run.results)
    inc = run.incident
    if inc is None:
        return results
    done = {r["nodeid"] for r in results}
    where = f"{inc.clause_id} [{inc.dtype}]" if inc.clause_id else "the run"
    status = "error" if inc.kind == "crash" else "fail"
    message = incident_message(run, target, call_timeout, memory_limit)
    for item in run.items:
        if item["nodeid"] in done:
            continue
        if item["nodeid"] == inc.nodeid:
            results.append(_result(item, status, message))
        else:
            how = "crashed" if inc.kind == "crash" else "was killed by the watchdog"
            results.append(_result(item, "skip", f"not run: the check process {how} while checking {where}"))
    return results


def _result(item: dict, status: str, message: str) -> dict:
    return {"nodeid": item["nodeid"], "clause_id": item["clause_id"], "dtype": item["dtype"], "status": status,
            "message": message, "worst_ratio": None, "worst_at": "", "examples": 0, "unsupported_configs": 0,
            "duration_s": 0.0}
