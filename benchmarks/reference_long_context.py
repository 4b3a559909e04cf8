"""The float64 RoPE reference at long context: 2**20 positions x head_dim 128, against a torch
float32 eager RoPE on the same input, in the same run.

    python benchmarks/reference_long_context.py [--log2-positions 20] [--head-dim 128] [--reps 3]

Input: x float32 [2**20, 128] (standard normal), positions 0 .. 2**20 - 1, base 10000, half
layout. The torch kernel is the usual eager one (float32 angles, cat(angles, angles).cos()/.sin(),
rotate_half), with torch's default threads; the reference is ``pe_spec.families.rope.reference.apply``
(exact angles, float64 output [2**20, 128] = 1 GiB). Timings alternate the two, ``--reps`` times
each, and report medians. Memory: the peak resident set size during each call (Linux VmHWM, reset
before the call through /proc/self/clear_refs), absolute and above the resident size before the
call (which already holds x), and the peak of numpy allocations during the reference call
(tracemalloc, a separate untimed call).

``--baseline`` times the reference as it was before issue 5 (whole-array temporaries, fancy-indexed
copies; ``baseline_apply`` below, on the same exact angles), for comparison.

Targets (issue 5): reference time at most 2x the torch time; peak memory under 2 GB.
"""
from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np
import torch

from pe_spec.families.rope import reference
from pe_spec.families.rope.conventions import pair_channels


def baseline_apply(x, positions, *, rotary_dim, base, layout, scale=1.0):
    """reference.apply as it was before issue 5: the whole array at once, pairs by fancy indexing."""
    x = np.asarray(x, dtype=np.float64)
    theta = reference.angles(positions, rotary_dim, base)
    c, s = scale * np.cos(theta), scale * np.sin(theta)
    first, second = pair_channels(layout, rotary_dim)
    a, b = x[..., first], x[..., second]
    out = x.copy()
    out[..., first] = a * c - b * s
    out[..., second] = a * s + b * c
    return out


def _status(field: str) -> int:
    """A VmRSS / VmHWM line of /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def torch_rope(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    d = x.shape[-1]
    inv_freq = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d)
    ang = positions.float()[:, None] * inv_freq
    emb = torch.cat((ang, ang), -1)
    cos, sin = emb.cos(), emb.sin()
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat((-x2, x1), -1) * sin


def measure(fn) -> tuple[float, int, int]:
    """(seconds, peak RSS during the call, RSS before the call)."""
    before = _status("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = _status("VmHWM")
    del out
    return seconds, peak, before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2-positions", type=int, default=20)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--base", type=float, default=10000.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--baseline", action="store_true",
                    help="time the reference as it was before issue 5 (whole-array temporaries) instead")
    args = ap.parse_args()
    apply = baseline_apply if args.baseline else reference.apply
    n, d = 2**args.log2_positions, args.head_dim
    gib = 2**30
    print(f"RoPE of x[{n}, {d}] float32 at positions 0..{n - 1}, base {args.base:g}, half layout; "
          f"{os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}")
    x_np = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    x = torch.from_numpy(x_np)
    pos_np = np.arange(n, dtype=np.int64)
    pos = torch.from_numpy(pos_np)
    run_torch = lambda: torch_rope(x, pos, args.base)
    run_ref = lambda: apply(x_np, pos_np, rotary_dim=d, base=args.base, layout="half")

    # Agreement on a few thousand rows at each end (the tolerance model's business; a sanity check).
    for rows in (slice(0, 4096), slice(n - 4096, n)):
        y32 = torch_rope(x[rows], pos[rows], args.base).double().numpy()
        ref = apply(x_np[rows], pos_np[rows], rotary_dim=d, base=args.base, layout="half")
        err = reference.pair_errors(y32, ref, rotary_dim=d, layout="half").max()
        print(f"  check: rows {rows.start}..{rows.stop - 1}: max pair error of the fp32 kernel {err:.3g}")

    run_torch(), run_ref()      # warm up (allocator, thread pools, inverse-frequency cache)
    times = {"torch fp32 eager": [], "pe-spec float64 reference": []}
    peaks = {k: [] for k in times}
    for _ in range(args.reps):
        for name, fn in (("torch fp32 eager", run_torch), ("pe-spec float64 reference", run_ref)):
            s, peak, before = measure(fn)
            times[name].append(s)
            peaks[name].append((peak, before))
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for name in times:
        peak, before = max(peaks[name])
        print(f"  {name:<27} median {med[name]:6.2f} s (min {min(times[name]):.2f}, max {max(times[name]):.2f}); "
              f"peak RSS {peak / gib:.2f} GiB ({(peak - before) / gib:+.2f} GiB over the {before / gib:.2f} GiB "
              f"resident before the call, which holds x)")
    tracemalloc.start()
    out = run_ref()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  reference output {out.nbytes / gib:.2f} GiB float64; peak of allocations during the call "
          f"(tracemalloc) {traced_peak / gib:.3f} GiB, so {(traced_peak - out.nbytes) / 2**20:.0f} MiB "
          f"of temporaries beyond the output")
    del out
    ratio = med["pe-spec float64 reference"] / med["torch fp32 eager"]
    ref_peak = max(peaks["pe-spec float64 reference"])[0]
    print(f"  reference / torch time: {ratio:.2f} (target at most 2: {'ok' if ratio <= 2 else 'MISSED'}); "
          f"reference peak RSS {ref_peak / 1e9:.2f} GB (target under 2 GB: {'ok' if ref_peak < 2e9 else 'MISSED'})")
    print(f"  load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
