"""What a failing RoPE kernel most likely gets wrong, recovered from its outputs.

The probe feeds the kernel the basis vectors e_0..e_{d-1} as the heads of one call, so its output
holds the whole matrix M(p) the kernel applies at each position p. From M it reads, without
assuming the kernel's declarations are right:

- which channels it pairs (its actual layout) and which it rotates (its rotary channels);
- per pair, the angle at positions 1, 2 and 129, hence its frequency w_i (to ~1e-6 relative),
  compared with the spec's w_i and with every known misreading (pe_spec.families.rope.misreadings):
  bf16 inverse frequencies, the i/d exponent, a wrong base ...;
- per probed position, the position q it actually rotates by, in a prefill call and in single-token
  (decode) calls: positions ignored, an offset dropped, clamped, wrapped, off by one, rounded;
- the direction (sin's sign) and whether cos and sin are swapped.

Only what the outputs show exactly is said; anything else is left to the failing clauses.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from pe_spec.families.rope import misreadings, reference
from pe_spec.families.rope.contract import Config, rotary_dims_for
from pe_spec.spec.contract import Implementation

from .. import limits
from ..tensors import unreadable_tensor

# Positions every probe call visits: 1, 2 and 129 give the frequencies (129 - 1 = 128 steps, all
# exact in bf16, so a rounding of positions cannot fake a frequency); the rest are where position
# bugs show (past bf16's and fp16's exact integers, a 2048-row cache, the cache's far end).
FREQUENCY_POSITIONS = (1, 2, 129)
FAR_POSITIONS = (300, 2047, 2049, 3001, 5000, 70001)
DECODE_POSITIONS = (5, 300, 3001)
# How close a recovered quantity must be to call it a match: the recovery's own error in float32
# (angles to ~1e-7 rad, over 128 steps) is far below it, a bf16 rounding (~1e-3) far above.
FREQUENCY_MATCH = 3e-5
ANGLE_MATCH = 2e-3    # rad, per pair, for a position's rotation


def diagnose(impl: Implementation) -> list[dict] | None:
    """Findings, each {"cause": what is wrong, "evidence": what the outputs show}; [] when the probe
    finds the kernel right (its failures are then regime-specific); None when it cannot run it (a
    half-precision-only kernel, a factory or call that raises on the probe's plain inputs)."""
    probe = _Probe.build(impl)
    if probe is None:
        return None
    try:
        return probe.findings()
    except _CannotProbe:
        return None


class _CannotProbe(Exception):
    pass


class _Probe:
    def __init__(self, impl: Implementation, cfg: Config, dtype: torch.dtype, fn) -> None:
        self.impl, self.cfg, self.dtype, self.fn = impl, cfg, dtype, fn
        self.d, self.r = cfg.head_dim, cfg.rotary_dim
        self.w = reference.inverse_frequencies(cfg.rotary_dim, cfg.base)

    @classmethod
    def build(cls, impl: Implementation) -> "_Probe | None":
        dims = impl.get("head_dims") or (32,)
        head_dim = next((d for d in (32, 64) if d in dims), dims[0])   # its e_j are the heads of one call
        rotary = rotary_dims_for(impl, head_dim)
        if not rotary:
            return None
        bases = impl.get("bases") or (10000.0,)
        declared = impl.get("dtypes")
        name = next((n for n in ("float32", "float64") if declared is None or n in declared), None)
        if name is None:
            return None    # half precision only: too coarse to recover frequencies exactly
        m = impl.get("max_position") or 8192
        cfg = Config(head_dim=head_dim, rotary_dim=max(rotary), base=float(bases[0]), max_position=m)
        try:
            with limits.implementation_call("factory"):
                fn = impl.factory(cfg)
        except BaseException as e:
            if isinstance(e, (limits.CallTimeout, limits.BudgetSpent, KeyboardInterrupt)):
                raise
            return None
        return cls(impl, cfg, getattr(torch, name), fn)

    # ---- calling ----
    def matrices(self, positions: list[int]) -> np.ndarray:
        """M(p) for each position in one call, [seq, d, d]: column j is the output for input e_j."""
        d = self.d
        x = torch.eye(d, dtype=self.dtype)[None, :, None, :].expand(1, d, len(positions), d).contiguous()
        p = torch.tensor(positions, dtype=torch.int64)
        try:
            with limits.implementation_call("kernel"):
                y = self.fn(x, p)
        except (limits.CallTimeout, limits.BudgetSpent, KeyboardInterrupt):
            raise
        except BaseException:
            raise _CannotProbe() from None
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != tuple(x.shape) or unreadable_tensor(y):
            raise _CannotProbe()
        out = y.detach().to("cpu", torch.float64).numpy()[0]      # [j (input e_j), seq, channel]
        if not np.isfinite(out).all():
            raise _CannotProbe()
        return np.transpose(out, (1, 2, 0))                      # [seq, channel, j]

    # ---- reading ----
    def findings(self) -> list[dict]:
        m = self.cfg.max_position
        served = sorted({p for p in (0, *FREQUENCY_POSITIONS, *FAR_POSITIONS, *DECODE_POSITIONS) if p < m} | {m - 1})
        M = dict(zip(served, self.matrices(served)))
        out: list[dict] = []
        pairs = self._pairs(M)
        if pairs is None:
            return [{"cause": "it ignores positions: it returns its input unchanged at every position",
                     "evidence": f"M(p) = I for p in {served[:4]} ... {served[-1]}"}]
        first, second = self.pairs = pairs
        if len(first) == 0:
            return [{"cause": "its output mixes channels, but not in pairs: not a rotation of channel pairs",
                     "evidence": "no two channels exchange values with each other for inputs e_j"}]
        layout = self._layout(first, second)
        declared = self.impl.declared["layout"]
        rotated = np.sort(np.concatenate([first, second]))
        if layout and layout != declared:
            shown = ", ".join(f"({a}, {b})" for a, b in list(zip(first, second))[:3])
            out.append({"cause": f"it computes layout={layout!r} but declares layout={declared!r}",
                        "evidence": f"it pairs channels {shown} ...; the {declared} layout pairs "
                                    + ("(2i, 2i+1)" if declared == "interleaved" else "(i, i + rotary_dim/2)")})
        if len(rotated) != self.r or not np.array_equal(rotated, np.arange(len(rotated))):
            span = f"{rotated[0]}..{rotated[-1]}" if len(rotated) else "none"
            out.append({"cause": f"it rotates channels {span} ({len(rotated)} of them), where rotary_dim = {self.r} "
                                 f"asks for channels 0..{self.r - 1}",
                        "evidence": "the channels its output mixes for inputs e_j"})
            return out
        if layout is None:
            return out
        # Each pair's 2x2 block must be a rotation [[c, -s], [s, c]]: equal cosines on both channels.
        uneven = max(np.abs(M[p][first, first] - M[p][second, second]).max() for p in M)
        if uneven > ANGLE_MATCH:
            return out + [{"cause": "its pairs are not rotated as pairs: the two channels of a pair get different angles "
                                    "(cos/sin laid out for the other layout, e.g. repeat_interleave with rotate_half)",
                           "evidence": f"the two channels of a pair differ in cos by up to {uneven:.3g}"}]
        # Angles per pair, in the spec's direction: y_a = x_a cos - x_b sin, y_b = x_a sin + x_b cos.
        theta = {p: self._angles(M[p]) for p in M}
        if np.abs(np.abs(theta[0]) - math.pi / 2).max() < ANGLE_MATCH:
            return out + [{"cause": "cos and sin are swapped",
                           "evidence": "at position 0 every pair is turned by a quarter turn, where R(0) = I"}]
        reordered = list(reversed(served))
        again = dict(zip(reordered, self.matrices(reordered)))
        moved = max(np.abs(again[p] - M[p]).max() for p in M)
        if moved > ANGLE_MATCH:
            index = {p: i for i, p in enumerate(served)}
            by_index = all(np.abs(_wrap(theta[p] - index[p] * self.w)).max() < ANGLE_MATCH for p in served[:4])
            return out + [{"cause": ("it rotates each token by its index in the call (torch.arange(seq)), not by its "
                                     "position: positions are ignored") if by_index else
                           "a token's rotation depends on the other positions in the call, not on its own alone",
                           "evidence": f"the same positions in reverse order come out differently (by up to {moved:.3g})"}]
        w_hat = self._frequencies(theta)
        ratio = w_hat / self.w
        if np.abs(ratio + 1).max() < FREQUENCY_MATCH:
            out.append({"cause": "it rotates the other way (the sign of sin is flipped): R(-p w)",
                        "evidence": f"pair 1 turns by {theta[2][1] - theta[1][1]:.6g} rad per position, the spec "
                                    f"by {self.w[1]:.6g}"})
            w_hat, ratio, theta = -w_hat, -ratio, {p: -t for p, t in theta.items()}
            self.sign = -1.0
        if np.abs(ratio - 1).max() > FREQUENCY_MATCH:
            out.append(self._frequency_finding(w_hat, ratio))
        else:
            out += self._position_findings(M, served, theta, w_hat)
        return out

    def _pairs(self, M: dict) -> tuple[np.ndarray, np.ndarray] | None:
        """(first, second) channels of each rotated pair, by which channel each e_j's output mixes in
        most at the positions that rotate every pair visibly; None when no channel mixes."""
        partner = {}
        for j in range(self.d):
            best, strength = None, 1e-3
            for p, mat in M.items():
                col = np.abs(mat[:, j]).copy()
                col[j] = 0.0
                k = int(np.argmax(col))
                if col[k] > strength:
                    best, strength = k, col[k]
            if best is not None:
                partner[j] = best
        if not partner:
            return None
        first = np.array(sorted(j for j, k in partner.items() if j < k and partner.get(k) == j), dtype=int)
        second = np.array([partner[j] for j in first], dtype=int)
        return first, second

    def _layout(self, first: np.ndarray, second: np.ndarray) -> str | None:
        n = len(first)
        i = np.arange(n)
        if np.array_equal(first, 2 * i) and np.array_equal(second, 2 * i + 1):
            return "interleaved"
        if np.array_equal(first, i) and np.array_equal(second, i + n):
            return "half"
        return None

    def _frequencies(self, theta: dict) -> np.ndarray:
        """w_i from the angles at 1, 2 (coarse) and 1, 129 (128 steps, unwrapped with the coarse one)."""
        coarse = _wrap(theta[2] - theta[1])
        steps = FREQUENCY_POSITIONS[2] - FREQUENCY_POSITIONS[0]
        turns = np.round((steps * coarse - _wrap(theta[129] - theta[1])) / (2 * math.pi))
        return (_wrap(theta[129] - theta[1]) + 2 * math.pi * turns) / steps

    def _frequency_finding(self, w_hat: np.ndarray, ratio: np.ndarray) -> dict:
        r, d, b = self.r, self.d, self.cfg.base
        off = np.flatnonzero(np.abs(ratio - 1) > FREQUENCY_MATCH)
        worst = int(off[np.argmax(np.abs(np.log(np.abs(ratio[off]))))])
        evidence = (f"{len(off)} of {r // 2} pairs turn at the wrong rate; pair {worst}: w = {w_hat[worst]:.7g}, the "
                    f"spec's {self.w[worst]:.7g} (ratio {ratio[worst]:.6g}) at rotary_dim={r} base={b:g}")
        for mis in misreadings.FREQUENCIES:
            if mis.applies(r, d, b) and np.abs(w_hat / mis.schedule(r, d, b) - 1).max() < FREQUENCY_MATCH:
                return {"cause": mis.cause, "evidence": evidence + "; every pair matches that schedule"}
        fitted = w_hat[1] ** (-r / 2.0) if r >= 4 and 0 < w_hat[1] < 1 else None
        if fitted and np.abs(w_hat / reference.inverse_frequencies(r, fitted) - 1).max() < FREQUENCY_MATCH:
            return {"cause": f"it uses base {fitted:.6g}, not the configured {b:g}",
                    "evidence": evidence + "; every pair matches base**(-2i/rotary_dim) with that base"}
        return {"cause": "its frequencies are not the spec's w_i = base**(-2i/rotary_dim), nor a known misreading",
                "evidence": evidence}

    def _position_findings(self, M: dict, served: list[int], theta: dict, w: np.ndarray) -> list[dict]:
        out = []
        m = self.cfg.max_position
        found: dict[str, tuple[list[str], list[str]]] = {}   # cause -> (where, evidence)

        def add(where: str, finding: dict) -> None:
            wheres, evidence = found.setdefault(finding["cause"], ([], []))
            wheres.append(where)
            evidence.append(f"{where}: {finding['evidence'].removeprefix('probed positions rotated as: ')}")

        prefill = {p: self._position_of(theta[p], w, p, i) for i, p in enumerate(served)}
        wrong = {p: q for p, q in prefill.items() if q != p}
        if wrong:
            add("calls of several tokens", _position_cause(wrong, served, m))
        decode = {}
        for p in (p for p in DECODE_POSITIONS if p < m):
            q = self._position_of(self._angles(self.matrices([p])[0]), w, p, 0)
            if q != prefill.get(p, p):
                decode[p] = q
        if decode:
            shown = ", ".join(f"{p} as {q}" for p, q in decode.items())
            cause = ("a single-token (decode) call is rotated at position 0: its offset (the KV-cache length) is "
                     "dropped, where a call of several tokens is right" if set(decode.values()) == {0} else
                     "a single-token (decode) call rotates its position differently from a call of several tokens")
            out.append({"cause": cause, "evidence": f"single-token calls rotated positions {shown}"})
        beyond = [p for p in (m, m + 1, 2 * m + 3) if p <= misreadings.MAX_PROBED_POSITION]
        for where, probe in ((f"calls past max_position = {m}", beyond), ("calls at negative positions", [-1, -2])):
            try:
                mats = self.matrices(probe)
            except _CannotProbe:   # raising is what the contract allows there
                continue
            got = {p: self._position_of(self._angles(mat), w, p, i) for i, (p, mat) in enumerate(zip(probe, mats))}
            off = {p: q for p, q in got.items() if q != p}
            if off:
                add(where, _position_cause(off, probe, m))
        out += [{"cause": f"{cause}, in {' and in '.join(wheres)}", "evidence": "; ".join(evidence)}
                for cause, (wheres, evidence) in found.items()]
        return out

    sign = 1.0   # -1 once the kernel is found to rotate the other way (its angles are then read negated)

    def _angles(self, mat: np.ndarray) -> np.ndarray:
        first, second = self.pairs
        return self.sign * np.arctan2(mat[second, first], mat[first, first])

    def _position_of(self, theta: np.ndarray, w: np.ndarray, p: int, index: int):
        """The position q whose rotation theta is (an int), or None when no single position fits;
        each pair within ANGLE_MATCH plus the float32 rounding of q * w_i."""
        tol = ANGLE_MATCH + 4 * np.abs(w) * 2.0**-24 * max(abs(p), 1)
        fit = lambda q: (np.abs(_wrap(theta - q * w)) / (tol + 4 * np.abs(w) * 2.0**-24 * abs(q))).max()
        candidates = {p, 0, index} | {q(p, index, self.cfg.max_position) for _, _, q in misreadings.POSITIONS}
        slow = int(np.argmin(np.abs(w)))
        period = 2 * math.pi / abs(w[slow])
        base_q = (theta[slow] / w[slow]) % period
        reach = max(abs(p), self.cfg.max_position) + period
        for k in range(-int(reach / period) - 1, int(reach / period) + 2):
            candidates.add(round(base_q + k * period))
        candidates = {q for q in candidates if math.isfinite(q)}
        best = min(candidates, key=lambda q: (fit(q), abs(q - p)))
        if fit(best) <= 1.0:
            return int(best) if float(best).is_integer() else best
        return None


def _position_cause(wrong: dict, probed: list[int], m: int) -> dict:
    shown = ", ".join(f"{p} as {q if q is not None else '(no single position)'}" for p, q in list(wrong.items())[:5])
    evidence = {"evidence": f"probed positions rotated as: {shown}"}
    qs = list(wrong.values())
    index = {p: probed.index(p) for p in wrong}
    if any(q is None for q in qs):
        return {"cause": "some positions are rotated by no single position", **evidence}
    if len(set(qs)) == 1 and len(qs) >= 2 and all(p > qs[0] for p in wrong):
        return {"cause": f"positions past {qs[0]} are clamped to {qs[0]} (a cache of {qs[0] + 1} rows)",
                **evidence}
    if len(set(qs)) == 1 and all(p < qs[0] for p in wrong):
        return {"cause": f"positions are clamped up to {qs[0]}", **evidence}
    if set(qs) == {0}:
        return {"cause": "every position is rotated as 0: positions are ignored", **evidence}
    if all(p < 0 and q == p + m for p, q in wrong.items()):
        return {"cause": f"negative positions wrap to the cache's far end: p is rotated as max_position + p "
                         "(a cache gathered with negative ids, Python-style)", **evidence}
    for name, text, q_of in misreadings.POSITIONS:
        if all(q == q_of(p, index[p], m) for p, q in wrong.items()):
            return {"cause": text, **evidence}
    period = _common_wrap(wrong)
    if period:
        return {"cause": f"positions wrap modulo {period} (a cache of {period} rows indexed p % {period})",
                **evidence}
    return {"cause": "positions are rotated as other positions", **evidence}


def _common_wrap(wrong: dict) -> int | None:
    diffs = {p - q for p, q in wrong.items() if q is not None and p > q}
    if not diffs:
        return None
    g = 0
    for v in diffs:
        g = math.gcd(g, v)
    return g if g > 1 and all(q < g for q in wrong.values() if q is not None) else None


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + math.pi) % (2 * math.pi) - math.pi
