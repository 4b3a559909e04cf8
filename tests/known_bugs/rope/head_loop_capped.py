"""A grid over heads capped at 32: heads from 32 on come back unrotated.

Bug: in the design of a fused RoPE kernel launched with one program (or thread block) per head,
the head dimension of the grid is capped at a compile-time MAX_HEADS = 32 (sized for the models
it was written for) and the kernel does not loop over the heads beyond it: heads 32.. keep the copy
of x the output buffer was initialised with. pe-spec's x[..., heads, seq, head_dim] has its heads
on dim -3, so for rank >= 3 every (batch, head >= 32) row is returned unrotated.

Regime: x of rank >= 3 with more than 32 heads on dim -3 (40, 64, 128 heads in one call), every
dtype and position > 0; heads 0..31 are exact, and so is every call with at most 32 heads (or a
rank-2 x).

Mirrors: no catalogued RoPE bug caps the head loop; the closest class is a launch dimension with a
hard limit the workload outgrew (microsoft/onnxruntime #20204: the sequence length was mapped to a
CUDA grid dimension limited to 65535, B-KER-06); a head count assumed from other models is also
behind ggml-org/llama.cpp #3018 (the GQA permute used n_heads for K, B-LAY-03).

Caught by: rope.reference (main) and the clauses that re-check against the reference
(rope.cache-coverage, rope.gradient, impl.environment), on their many-heads examples;
impl.batch-independence too, where it moves a row across index 32 of dim -3 (a permuted or subset
call rotates it, or not, by its new index). impl.compile draws 6 examples per dtype and may meet
no many-heads one: an incidental failure where it does. Unrotated rows keep their norms, q.k of
two unrotated rows is shift-invariant and the identity composes: rope.norm, rope.relative-shift,
rope.composition and rope.zero pass.
"""
import torch

from pe_spec import rope

MAX_HEADS = 32


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        out = torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)
        if x.dim() >= 3 and x.shape[-3] > MAX_HEADS:
            # BUG: the grid covers heads 0..MAX_HEADS-1 only; the rest keep the copy of x
            out = torch.cat((out[..., :MAX_HEADS, :, :], x[..., MAX_HEADS:, :, :]), dim=-3)
        return out

    return apply
