"""A process-wide frequency cache filled at first use with a default-dtype division.

Bug: the module keeps one inverse-frequency table per (rotary_dim, base) for the whole process, in
a module-level dict filled by the first call that needs it (not when the kernel is built), with
``1.0 / base ** (torch.arange(0, r, 2) / r)``: the arange is int64, but true division of an
integer tensor gives the *default* dtype. If that first call happens under
``torch.set_default_dtype(torch.bfloat16)`` (a model built and warmed up inside DeepSpeed
``zero.Init`` or a bf16 loader) the table is bfloat16, with 8 significant bits, and it stays so for
the rest of the process, whatever the default is later, for every kernel of that configuration
and every input dtype. First used under the float32 default, it is bit-identical to the int64
``arange(...).float() / r`` construction and the kernel is exact.

Regime: a process whose first call for a (rotary_dim, base) runs under a bf16 (or fp16) default
dtype, then positions above about 2**8; every dtype.

Mirrors: huggingface/transformers #28685 (frequencies built from a default-dtype range under
DeepSpeed zero.Init, hence ``arange(..., dtype=torch.int64).float()``, B-PREC-05) and
deepspeedai/DeepSpeed #4932; the first-use cache that keeps what an early call computed is
lucidrains/rotary-embedding-torch ``cached_freqs`` (docs/findings/rotary-embedding-torch.md).

Caught by: impl.environment (main: its fresh-process check, impl.environment#fresh-process, the
kernel loaded and first called in a fresh interpreter under the bf16 default dtype). In the test
process impl.environment (default-dtype-bf16, built and called under it) sees it only where a
(rotary_dim, base) is first met there; usually an earlier check has filled the float32 table
already. Where it is met there first, the bf16 table stays, and later checks of that
configuration in the process would see it: the suite runs impl.environment after every rope.*
clause. Within one process the table never changes, so impl.determinism passes.
"""
import torch

from pe_spec import rope

_INV_FREQ: dict = {}  # (rotary_dim, base) -> inverse frequencies, shared by the whole process


def inverse_frequencies(r, base):
    if (r, base) not in _INV_FREQ:
        # BUG: int64 / int is true division into the default dtype at the time of the first call
        _INV_FREQ[(r, base)] = 1.0 / (base ** (torch.arange(0, r, 2) / r))
    return _INV_FREQ[(r, base)]


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim

    def apply(x, positions):
        inv_freq = inverse_frequencies(r, float(cfg.base))
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.float().to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
