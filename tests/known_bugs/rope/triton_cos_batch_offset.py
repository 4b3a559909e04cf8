"""A Triton RoPE program (Liger-Kernel's design) whose per-sample cos/sin row forgets seq_len.

Bug: a Triton program in the design of the module liger_kernel.ops.rope (q stored [batch, seq, heads,
head_dim], the first and second rotary halves loaded as tiles, y1 = x1 cos - x2 sin,
y2 = x2 cos + x1 sin, computed in fp32), one program per sample over its (seq, head) rows so the
interpreter runs it quickly, reading cos/sin of shape [batch, seq, rotary_dim] (per-sample
position_ids, as transformers passes them with padding or packing). The cos/sin row of token s
of sample b is ``(batch_idx + seq_idx)`` where it must be ``(batch_idx * seq_len + seq_idx)``:
sample b reads the cos/sin of token s + b of the flattened [batch * seq] rows, the position of
another token. Sample 0 is exact, so single-sequence tests pass. The eager counterpart
(``eager`` below, declared as ``counterpart``) is the rotate-half formula on the same cos/sin
tensor: what the Triton program replaces.

Regime: batch > 1 (pe-spec maps x[b, h, ..., seq, d] to batch b) with distinct positions within
a sequence; every dtype and position. The program runs under Triton's interpreter where there
is no CUDA (TRITON_INTERPRET=1 is set before triton is imported), on the GPU otherwise.
Interpreted, bf16 is not declared (the interpreter multiplies bf16 bit patterns as integers;
docs/findings/liger.md), though this program computes in fp32. pe-spec gives every row of x the
same positions, so the bug shows because the wrong row holds another token's position; #464's
bug itself (every sample reads sample 0's rows, all equal here) is invisible to the contract.

Mirrors: linkedin/Liger-Kernel #464 (B-POS-03: the kernel read only the first row of cos/sin,
assuming every sample's positions start at 0); the batch/row offset arithmetic of
the module liger_kernel.ops.rope (``batch_idx * (sl * cos_row_stride) + cos_row_idx * cos_row_stride``).

Caught by: device.counterpart (main: the Triton program against the eager path it replaces,
within the arithmetic allowance), rope.reference and the clauses that compare with it
(rope.cache-coverage, rope.gradient: the backward runs the same program; impl.environment),
impl.batch-independence (a row's result depends on its batch index) and rope.positions (a
subset of rows is a different [batch, seq] grid). impl.compile (the launch is a graph break, as
in Liger, so the compiled function runs the same program) fails on the examples it reaches with
batch > 1 and seq > 1: incidental, since it draws only 6 examples per dtype. rope.composition
and rope.relative-shift hold for the program (every call turns the same row by the same wrong
token's angle), but batch > 0 rows turn by other tokens' larger angles, whose rounding exceeds
the allowance sized for the claimed positions: incidental. rope.norm, rope.zero,
rope.linearity, rope.pass-through, impl.no-mutation, impl.stride-invariance, impl.determinism
and impl.dtype-shape MUST pass: the program is an out-of-place rotation of every row by some
cached angle (position 0 everywhere when every position is 0), the same for every layout.
"""
import os

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"   # before triton is imported: run the program on the CPU

import triton  # noqa: E402
import triton.language as tl  # noqa: E402

from pe_spec import rope  # noqa: E402

INTERPRETING = not torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1"
DTYPES = ("float32", "float16") if INTERPRETING else ("float32", "bfloat16", "float16")


@triton.jit
def _rope_rows(x_ptr, out_ptr, cos_ptr, sin_ptr, sl, SIGN: tl.constexpr, n_h: tl.constexpr, hd: tl.constexpr,
               rd: tl.constexpr, pad_rows: tl.constexpr, pad_n_h: tl.constexpr, pad_half: tl.constexpr):
    # x, out: [batch, seq, heads, head_dim] contiguous; cos, sin: [batch, seq, rd] contiguous. One
    # program per sample; tile rows are its (seq, head) rows, columns the first half of the rotary part.
    batch_idx = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, pad_rows)
    seq_idx = rows // pad_n_h
    head_idx = rows % pad_n_h
    half = tl.arange(0, pad_half)
    row_mask = (seq_idx < sl) & (head_idx < n_h)
    mask = row_mask[:, None] & (half < rd // 2)[None, :]
    cos_rows = (batch_idx + seq_idx) * rd          # BUG: should be (batch_idx * sl + seq_idx) * rd
    cs_offs = cos_rows[:, None] + half[None, :]
    c = tl.load(cos_ptr + cs_offs, mask=mask, other=0).to(tl.float32)
    s = tl.load(sin_ptr + cs_offs, mask=mask, other=0).to(tl.float32) * SIGN
    x_offs = ((batch_idx * sl + seq_idx) * n_h + head_idx)[:, None] * hd + half[None, :]
    x1 = tl.load(x_ptr + x_offs, mask=mask, other=0).to(tl.float32)
    x2 = tl.load(x_ptr + x_offs + rd // 2, mask=mask, other=0).to(tl.float32)
    y1 = x1 * c - x2 * s
    y2 = x2 * c + x1 * s
    tl.store(out_ptr + x_offs, y1.to(out_ptr.dtype.element_ty), mask=mask)
    tl.store(out_ptr + x_offs + rd // 2, y2.to(out_ptr.dtype.element_ty), mask=mask)


def _launch(q: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, sign: int) -> torch.Tensor:
    """q [batch, heads, seq, head_dim] -> rotated q (out of place; channels >= rotary_dim copied)."""
    b, h, s, d = q.shape
    rd = cos.shape[-1]
    x = q.transpose(1, 2).contiguous()                 # [batch, seq, heads, head_dim], as Liger's kernel
    out = x.clone()
    cos, sin = cos.contiguous(), sin.contiguous()
    pad_n_h = triton.next_power_of_2(h)
    _rope_rows[(b,)](x, out, cos, sin, s, SIGN=sign, n_h=h, hd=d, rd=rd,
                     pad_rows=triton.next_power_of_2(s) * pad_n_h, pad_n_h=pad_n_h,
                     pad_half=triton.next_power_of_2(rd // 2))
    return out.transpose(1, 2)


class _TritonRope(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, cos, sin):
        ctx.save_for_backward(cos, sin)
        return _launch(q, cos, sin, 1)

    @staticmethod
    def backward(ctx, grad):
        cos, sin = ctx.saved_tensors
        return _launch(grad, cos, sin, -1), None, None   # R(p)^T = R(-p): the same program, sin negated


@torch.compiler.disable   # as Liger's dispatch(): torch.compile runs the Triton launch eagerly (a graph break)
def _rotate(q: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return _TritonRope.apply(q, cos, sin)


def _as_bhsd(x: torch.Tensor) -> torch.Tensor:
    lead = x.shape[:-2]
    if len(lead) == 0:
        return x.reshape(1, 1, *x.shape[-2:])
    if len(lead) == 1:
        return x.reshape(1, lead[0], *x.shape[-2:])
    return x.reshape(lead[0], -1, *x.shape[-2:])


def _cos_sin(cfg: rope.Config, inv_freq: torch.Tensor, q: torch.Tensor, positions: torch.Tensor):
    """Per-sample cos/sin [batch, seq, rotary_dim] in q's dtype, fp32 angles (transformers' Llama way)."""
    position_ids = positions.to(q.device).reshape(1, -1).expand(q.shape[0], -1)
    with torch.autocast(device_type=q.device.type, enabled=False):
        freqs = position_ids[..., None].float() * inv_freq.to(q.device)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(q.dtype), emb.sin().to(q.dtype)


def _inv_freq(cfg: rope.Config) -> torch.Tensor:
    r = cfg.rotary_dim
    return 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))


@rope.implementation(layout="half", dtypes=DTYPES)
def eager(cfg: rope.Config):
    """The eager path the Triton program replaces: rotate-half on the same cos/sin."""
    inv_freq, r = _inv_freq(cfg), cfg.rotary_dim

    def apply(x, positions):
        q = _as_bhsd(x)
        cos, sin = _cos_sin(cfg, inv_freq, q, positions)
        cos, sin = cos[:, None], sin[:, None]
        rot, rest = q[..., :r], q[..., r:]
        x1, x2 = rot[..., : r // 2], rot[..., r // 2:]
        out = rot * cos + torch.cat((-x2, x1), dim=-1) * sin
        return torch.cat((out, rest), dim=-1).reshape(x.shape)

    return apply


@rope.implementation(layout="half", dtypes=DTYPES, counterpart=eager)
def kernel(cfg: rope.Config):
    inv_freq = _inv_freq(cfg)

    def apply(x, positions):
        q = _as_bhsd(x)
        cos, sin = _cos_sin(cfg, inv_freq, q, positions)
        return _rotate(q, cos, sin).reshape(x.shape)

    return apply
