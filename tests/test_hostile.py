"""A broken or hostile implementation never breaks the suite.

Each row of HOSTILE checks one kernel from tests/hostile/kernels.py with `pe-spec check` (only
the clauses that matter, float32 only, so a row costs seconds) and requires a clean, specific
verdict: the exit status, the status of every clause checked, a message naming what happened,
the JSON report written, no traceback from pe-spec itself, no hang, no pass that should not be.
Crashes and hangs of the check process are `pe-spec check`'s isolation (pe_spec.harness.supervisor);
the time and memory limits are pe_properties.limits.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, run_cli, statuses

KERNELS = Path(__file__).resolve().parent / "hostile" / "kernels.py"


@dataclass(frozen=True)
class Row:
    kernel: str
    clauses: dict[str, str]              # clause -> expected status (each is passed as --clause)
    says: tuple[str, ...] = ()           # substrings of the message of the (first) failing or erroring test
    exit: int = 1
    args: tuple[str, ...] = ()
    incident: str | None = None          # crash | timeout: the check process died or was killed
    within_s: float = 120.0              # wall time bound (no hang)
    extra: dict = field(default_factory=dict)


REF = "rope.reference"
HOSTILE = [
    # what the kernel returns
    Row("raises", {REF: "fail"}, ("the kernel raised RuntimeError: kernel exploded",)),
    Row("returns_nan", {REF: "fail"}, ("output differs from the float64 reference", "observed error nan")),
    Row("returns_inf", {REF: "fail"}, ("output differs from the float64 reference", "observed error inf")),
    Row("wrong_shape", {REF: "fail"}, ("the kernel returned shape (", "6) for input shape (", "8)")),
    Row("wrong_dtype", {"impl.dtype-shape": "fail", REF: "pass"},
        ("output dtype torch.float64 differs from input dtype torch.float32",)),
    Row("wrong_device", {"impl.dtype-shape": "fail"}, ("a tensor on the meta device", "for an input on cpu")),
    Row("returns_numpy", {REF: "fail"}, ("the kernel returned ndarray, not a torch.Tensor",)),
    Row("returns_list", {REF: "fail"}, ("the kernel returned list, not a torch.Tensor",)),
    Row("returns_none", {REF: "fail"}, ("the kernel returned NoneType, not a torch.Tensor",)),
    Row("calls_sys_exit", {REF: "fail"}, ("the kernel raised SystemExit: 3",)),
    Row("mutates_input", {"impl.no-mutation": "fail", REF: "pass"}, ("the kernel wrote into its input x",)),
    Row("aliases_input", {"impl.no-aliasing": "fail", "rope.zero": "pass", "impl.no-mutation": "pass"},
        ("the output shares memory with the input x",)),
    Row("nondeterministic", {"impl.determinism": "fail", REF: "pass"}, ("two calls with equal inputs differ",)),
    # the factory
    Row("unsupported_some", {REF: "pass"}, exit=0, extra={"unsupported_counted": True}),
    Row("factory_raises", {REF: "fail"}, ("the factory raised ValueError: head_dim 8 only",)),
    Row("unsupported_all", {REF: "error"}, ("the factory raised Unsupported for every configuration drawn",)),
    Row("factory_returns_string", {REF: "fail"}, ("the factory must return a callable fn(x[..., seq, head_dim], positions int64[seq]) -> tensor like x, got str",)),
    # time: a Python-level hang stops at the call's time limit, and the rest of the check is not run
    Row("hangs", {REF: "fail", "rope.norm": "skip", "rope.zero": "skip", "rope.linearity": "skip"},
        ("a call to the kernel function exceeded the 2 s time limit", "--call-timeout 2"),
        args=("--call-timeout", "2"), extra={"skip_says": "the kernel had hung: a call to the kernel function "
                                                          "exceeded the 2 s time limit, in rope.reference[float32]"}),
    Row("very_slow", {REF: "fail"}, ("the factory call exceeded the 2 s time limit",), args=("--call-timeout", "2")),
    # native hangs: only the parent's watchdog ends them (time limit + grace of 5 s, then a stack dump)
    Row("native_hang", {REF: "fail", "rope.norm": "skip"},
        ("a call to the kernel function exceeded the 1 s time limit and it did not return to Python",
         "the watchdog killed the check process", "kernels.py"),
        args=("--call-timeout", "1"), incident="timeout"),
    Row("swallows_timeout", {REF: "fail"}, ("the time limit's exception was raised in it and it went on",
                                            "the watchdog killed the check process"),
        args=("--call-timeout", "1"), incident="timeout"),
    # the process dies
    Row("exits", {REF: "error", "rope.norm": "skip"},
        ("the implementation crashed the check process: it exited with status 3 during a call to the kernel "
         "function", "about to leave", "reproduce: pe-spec repro"), incident="crash"),
    Row("segfaults", {REF: "error"},
        ("it was killed by signal 11 (SIGSEGV) during a call to the kernel function", "calling the extension",
         "Fatal Python error: Segmentation fault", "kernels.py"), incident="crash"),
    # memory
    Row("absurd_allocation", {REF: "fail"}, ("the kernel raised RuntimeError", "can't allocate memory")),
    Row("leaks", {REF: "fail", "rope.norm": "skip"},
        ("can't allocate memory", "the check process had used up its memory limit"), args=("--memory-limit", "3G")),
    # output: a flood is counted and summarized; the verdict (a pass here) stays readable
    Row("floods_output", {REF: "pass"}, exit=0, extra={"flood": True}),
]


@pytest.mark.parametrize("row", HOSTILE, ids=lambda r: r.kernel)
def test_hostile_kernel_gets_a_clean_verdict(row: Row, tmp_path):
    out = tmp_path / "report.json"
    args = ["check", f"{KERNELS}:{row.kernel}", "--report", str(out), *row.args]
    for cid in row.clauses:
        args += ["--clause", cid]
    if not row.extra.get("flood"):
        args += ["-q", "--verbose"]   # each failure whole as it is recorded, and no progress lines
    started = time.monotonic()
    proc = run_cli(*args, timeout=row.within_s + 60)
    elapsed = time.monotonic() - started
    shown = proc.stdout[-4000:] + proc.stderr[-4000:]
    assert elapsed < row.within_s, f"took {elapsed:.0f} s\n{shown}"
    assert proc.returncode == row.exit, shown
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr, shown
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("pe-spec 2026.1: " + ("CONFORMANT" if row.exit == 0 else "NONCONFORMANT")), shown
    report = json.loads(out.read_text())
    assert statuses(report) == row.clauses, shown
    assert report["verdict"] == ("conformant" if row.exit == 0 else "nonconformant")
    tests = [t for c in report["clauses"] for t in c["tests"] if not t["message"].startswith("not applicable")]
    bad = [t for t in tests if t["status"] in ("fail", "error")]
    if row.says:
        message = bad[0]["message"]
        for part in row.says:
            assert part in message, (part, message)
        assert message in proc.stdout   # the failure is printed as it is recorded
    if row.incident:
        assert report["incident"]["kind"] == row.incident
        assert report["incident"]["clause_id"] == REF and report["incident"]["call"] == "kernel"
        not_run = [t for t in tests if t["status"] == "skip"]
        assert all(t["message"].startswith("not run: the check process") for t in not_run), not_run
    else:
        assert report["incident"] is None
    if "skip_says" in row.extra:
        skipped = [t for t in tests if t["status"] == "skip"]
        assert skipped and all(row.extra["skip_says"] in t["message"] for t in skipped), skipped
    if row.extra.get("unsupported_counted"):
        assert sum(t["unsupported_configs"] for t in tests) > 0
    if row.extra.get("flood"):
        assert report["output"]["stdout"]["bytes"] > 10 * 2**20
        assert report["output"]["stderr"]["bytes"] > 2**20
        assert len(report["output"]["stdout"]["tail"]) < 20_000
        assert len(proc.stdout) < 5000, proc.stdout[:5000]
        assert f"note: the implementation wrote {report['output']['stdout']['bytes']} bytes to stdout" in proc.stdout
        assert "\x1b" not in proc.stdout   # the kernel's escape sequences do not reach the terminal


IMPORT_TIME = {
    "segfaults": ("import ctypes\nctypes.string_at(0)\n", (), "crashed the check process: it was killed by signal 11"),
    "exits": ("import os\nos._exit(0)\n", (), "crashed the check process: it exited with status 0"),
    "hangs_in_native_code": ("import signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
                             "time.sleep(3600)\n", ("--call-timeout", "1"),
                             "exceeded the 1 s time limit and the watchdog killed the check process"),
}


@pytest.mark.parametrize("name", IMPORT_TIME)
def test_a_module_that_kills_its_import_is_a_loading_error(name, tmp_path):
    code, args, expected = IMPORT_TIME[name]
    path = tmp_path / "target.py"
    path.write_text(code)
    proc = run_cli("check", f"{path}:kernel", "--report", str(tmp_path / "r.json"), *args, timeout=120)
    assert proc.returncode == 2, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"pe-spec: loading {path}:kernel ") and expected in first, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr
    assert not (tmp_path / "r.json").exists()   # nothing was checked: no report


SLOW_CORRECT = textwrap.dedent('''
    import pathlib
    import time
    from pe_spec import rope
    from pe_spec.examples import rope_half_cached

    @rope.implementation(layout="half", dtypes=("float32",), head_dims=(8,), max_position=4096)
    def kernel(cfg):
        f = rope_half_cached.factory(cfg)
        def apply(x, positions):
            pathlib.Path(__file__).with_name("calling").touch()   # the test signals once the call is on
            time.sleep(30)
            return f(x, positions)
        return apply
''')


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_check_leaves_no_half_written_report(sig, code, tmp_path):
    """SIGTERM or SIGINT to `pe-spec check` stops the child, writes no report (an existing one is
    left as it was: a partial run proves nothing) and leaves no temporary file behind."""
    kernel = tmp_path / "slow.py"
    kernel.write_text(SLOW_CORRECT)
    out = tmp_path / "report.json"
    out.write_text('{"previous": true}\n')
    proc = subprocess.Popen([sys.executable, "-m", "pe_spec", "check", f"{kernel}:kernel", "--clause", REF,
                             "--report", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL, preexec_fn=_signals_as_in_a_shell)
    deadline = time.monotonic() + 120
    # Signalled only once the child is in its first (30 s) call, however loaded the machine is.
    while not (tmp_path / "calling").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    children = _children(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err
    assert json.loads(out.read_text()) == {"previous": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calling", "report.json", "slow.py"]
    time.sleep(0.5)
    assert not [pid for pid in children if _alive(pid)], "the check process outlived pe-spec"


def _signals_as_in_a_shell() -> None:
    """pe-spec starts with SIGINT and SIGTERM deliverable and at their defaults, as from a terminal:
    a signal mask or an ignored SIGINT that something earlier in this test worker left behind is
    inherited by a child, and is not what this test is about."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return bool(stat) and stat.split()[2] != "Z"


def test_report_records_what_reproduces_the_run(tmp_path):
    """The report names the spec and pe-spec versions, library versions, devices, the hypothesis
    profile and seed, the limits, and a command that reruns the check; it is written atomically
    even when the check process crashed."""
    out = tmp_path / "report.json"
    proc = run_cli("check", f"{KERNELS}:segfaults", "--clause", REF, "--clause", "rope.norm", "--profile", "dev",
                   "--seed", "7", "--call-timeout", "45", "--report", str(out), "-q", timeout=180)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    env = report["environment"]
    assert report["spec_version"] == "2026.1" and report["pe_spec_version"]
    assert {"torch", "numpy", "hypothesis", "python", "platform", "libraries", "devices", "device_names"} <= set(env)
    assert env["profile"] == "dev" and env["seed"] == 7 and env["call_timeout_s"] == 45
    assert env["memory_limit_bytes"] > 0 and env["isolation"].startswith("subprocess")
    assert report["reproduce"] == (f"pe-spec check {KERNELS}:segfaults --profile dev --clause {REF} "
                                   "--clause rope.norm --seed 7 --call-timeout 45")
    assert report["incident"]["exit"] == "was killed by signal 11 (SIGSEGV)"
    assert statuses(report) == {REF: "error", "rope.norm": "skip"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]   # no temporary file left


def test_pytest_route_applies_the_call_time_limit(tmp_path):
    """Under pytest (in-process, no isolation) a Python-level hang still ends at the time limit,
    from the command line or the environment."""
    for how, env in ((["--pe-call-timeout", "2"], {}), ([], {"PE_CALL_TIMEOUT": "2"})):
        out = tmp_path / "r.json"
        proc = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "pe_properties", "-q", "-p",
                               "no:cacheprovider", "--pe-impl", f"{KERNELS}:hangs", "--pe-clause", REF,
                               "--pe-report", str(out), *how], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env={**os.environ, **env})
        assert proc.returncode == 1, proc.stdout[-3000:]
        report = json.loads(out.read_text())
        assert statuses(report) == {REF: "fail"}
        assert "exceeded the 2 s time limit" in report["clauses"][0]["tests"][0]["message"]
        assert report["environment"]["call_timeout_s"] == 2


def test_repro_replays_a_hang_under_the_time_limit():
    """The reproduce line of a timed-out example (it carries --call-timeout) replays it in-process."""
    ex = {"config": {"head_dim": 8, "rotary_dim": 8, "base": 10000.0, "max_position": 2048, "scaling": "none"},
          "dtype": "float32", "lead": [1], "positions": [0, 5], "seed": 0, "device": "cpu", "extra": {}}
    proc = run_cli("repro", f"{KERNELS}:hangs", REF, json.dumps(ex), "--call-timeout", "2", timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[rope.reference] MUST" in proc.stdout and "a call to the kernel function exceeded the 2 s time limit" in proc.stdout


STALLS_OUTSIDE_CALLS = textwrap.dedent('''
    import signal, time, torch
    from pe_spec import rope
    from pe_spec.examples import rope_half_cached

    class Sticky(torch.Tensor):
        """An output whose detach() (which pe-spec calls, not the kernel) hangs in 'native' code."""
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func is torch.Tensor.detach:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                time.sleep(3600)
            return super().__torch_function__(func, types, args, kwargs or {})

    @rope.implementation(layout="half", dtypes=("float32",), head_dims=(8,), max_position=4096)
    def kernel(cfg):
        f = rope_half_cached.factory(cfg)
        return lambda x, p: f(x, p).as_subclass(Sticky)
''')


def test_watchdog_ends_a_stall_outside_any_call(tmp_path, monkeypatch):
    """Code the implementation runs indirectly (here a method of the tensor it returned) is outside
    the calls the time limit covers: the watchdog's idle limit (60 s, 8 s here) ends it."""
    from pe_spec.harness import supervisor

    monkeypatch.setattr(supervisor, "IDLE_LIMIT", 8.0)
    path = tmp_path / "sticky.py"
    path.write_text(STALLS_OUTSIDE_CALLS)
    spec = {"target": f"{path}:kernel", "profile": "ci", "clauses": [REF], "seed": None, "call_timeout": 2,
            "memory_limit": None}
    started = time.monotonic()
    run = supervisor.Supervisor(spec, call_timeout=2).execute()
    assert time.monotonic() - started < 90
    assert run.incident is not None and run.incident.kind == "stalled" and run.incident.clause_id == REF
    assert run.incident.call is None
    message = supervisor.incident_message(run, spec["target"], 2, None)
    assert "showed no progress for 8 s outside any call the time limit covers" in message
    assert "sticky.py" in message and "__torch_function__" in message   # the stack dump shows where
