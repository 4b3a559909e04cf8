"""Liger-Kernel's Triton RoPE, driven the way Liger's Hugging Face patch runs it.

``pe-spec check liger:rope`` checks ``liger_kernel.transformers.rope.liger_rotary_pos_emb`` (what
``apply_liger_kernel_to_llama(rope=True)`` substitutes for transformers' ``apply_rotary_pos_emb``):
cos/sin come from transformers' ``LlamaRotaryEmbedding`` (fp32 angles, cast to the model dtype),
q is pe-spec's x[..., seq, head_dim] reshaped to [batch, heads, seq, head_dim], k a copy of it,
and the rotated q is returned in x's shape. ``liger:rope_hf_layout`` passes q as transformers'
attention does instead: a [batch, heads, seq, head_dim] view of a fresh [batch, seq, heads,
head_dim] buffer (docs/findings/liger.md: Liger's kernel is right for that layout and wrong for a
contiguous q at seq_len 1). ``liger:llama_eager`` is the eager path both replace:
transformers' ``apply_rotary_pos_emb`` with the same cos/sin; both declare it as their
counterpart, so device.counterpart holds the Triton program to the eager math within a few
output ulps (pe_spec.tolerance.arithmetic_allowance).

Partial rotary: the rotary embedding is built for rotary_dim (cos/sin of width rotary_dim);
Liger rotates the leading rotary_dim channels of each head (its width is that of cos/sin) and
the eager path rotates q[..., :rotary_dim] and concatenates the rest, as transformers' partial
rotary models do.

NO GPU: THE TRITON INTERPRETER. Without CUDA a Triton kernel cannot launch ("0 active drivers").
Importing this module then sets TRITON_INTERPRET=1 before Liger's kernel module is imported, and
Triton runs the kernel's program on CPU tensors in numpy (docs/findings/liger.md says what that
does and does not prove; reports record it as environment.triton_interpret). Triton reads the
variable when ``@triton.jit`` decorates a kernel, so an earlier ``import triton`` is harmless;
if Liger's kernel module was already imported without it (its kernel built for a GPU), this
module raises rather than run a kernel that cannot launch. Liger's RoPE kernel has no autotuner, so no
configuration needs pinning. With CUDA, nothing is set and the kernel runs on the GPU (CPU
inputs are copied there and the result back: Liger has no CPU path).
"""
from __future__ import annotations

import os
import sys
import warnings

import torch

from pe_spec import rope as pe_rope
from pe_spec.spec.contract import MIN_MAX_SEQ_LEN
from pe_spec.adapters import require

_KERNEL_MODULE = "liger_kernel.ops.rope"


class TritonInterpreterWarning(UserWarning):
    """Liger's kernel will run under Triton's interpreter (no CUDA device here)."""


def _interpreted(kernel) -> bool:
    from triton.runtime.interpreter import InterpretedFunction

    return isinstance(kernel, InterpretedFunction)


if not torch.cuda.is_available():
    _kernel = getattr(sys.modules.get(_KERNEL_MODULE), "_triton_rope", None)
    if _kernel is not None and not _interpreted(_kernel):
        raise RuntimeError(
            f"{_KERNEL_MODULE} was imported before pe_spec.adapters.liger without TRITON_INTERPRET=1, and there "
            "is no CUDA device: its Triton kernel is compiled for a GPU and cannot launch here. Set "
            "TRITON_INTERPRET=1 in the environment (or import pe_spec.adapters.liger first) to run it under "
            "Triton's interpreter on the CPU.")
    if os.environ.get("TRITON_INTERPRET") != "1":
        warnings.warn("pe_spec.adapters.liger: no CUDA device, so TRITON_INTERPRET=1 is set and Liger's Triton "
                      "kernel runs under Triton's interpreter on the CPU (numpy arithmetic, not a GPU's; "
                      "bf16 not checked; see docs/findings/liger.md)", TritonInterpreterWarning)
    os.environ["TRITON_INTERPRET"] = "1"

_liger_rope = require("liger_kernel.transformers.rope", "liger")
_hf_llama = require("transformers.models.llama.modeling_llama", "liger")
_hf_config = require("transformers", "liger")
_kernel_module = sys.modules[_KERNEL_MODULE]

# True when the kernel runs under Triton's interpreter (no CUDA here, or TRITON_INTERPRET=1 set).
INTERPRETING: bool = _interpreted(_kernel_module._triton_rope)

# Dtypes. The interpreter runs fp32 and fp16 faithfully (numpy float32/float16 arithmetic): both
# match transformers' eager apply_rotary_pos_emb bit for bit. It does not run bf16: it stores bf16
# as raw uint16 and multiplies the bit patterns as integers (NaN and 1e38-sized outputs), and
# Liger computes in the dtype of cos, which LlamaRotaryEmbedding casts to bf16. So when
# interpreting, bf16 is not declared (not checked); on a GPU all three are.
DTYPES: tuple[str, ...] = ("float32", "float16") if INTERPRETING else ("float32", "bfloat16", "float16")

# Sequence length. The interpreter runs one Triton program per (batch, seq) row at about 4 ms each,
# so a 4097-token call costs 15 s and the long-sequence regime alone would make a check take hours.
# Interpreting, sequences are capped at the least a kernel may declare (the report lists
# long-sequence as not reached, by this declaration); on a GPU they are drawn in full. Liger's
# grid has one program per token, with no sequence tile, so the last-tile bugs that regime guards
# against have no place to live in it.
SEQUENCE_CAP: dict[str, int] = {"max_seq_len": MIN_MAX_SEQ_LEN} if INTERPRETING else {}

# With CUDA (and no interpreter) Liger's kernel only runs on the GPU. pe-spec calls a kernel with CPU
# tensors in every clause but the device.* ones, so CPU inputs are copied to this device and the
# result copied back (an in-place write then lands in the copy: impl.no-mutation cannot see L2 there;
# docs/findings/liger.md). Untested here: no GPU was available when this adapter was written.
GPU = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else None


def selected_impl() -> str:
    """The implementation Liger's dispatcher picks for 'rope' here: 'nvidia-triton' (liger_kernel/ops/rope.py)
    unless a preferred backend is installed and usable (the CuTe DSL one needs nvidia-cutlass-dsl and a GPU)."""
    from liger_kernel.backends import resolve_impl

    return resolve_impl("rope").impl_name


def rotary_embedding(cfg: pe_rope.Config):
    """transformers' LlamaRotaryEmbedding for rotary_dim channels, rope_theta = base (default rope type)."""
    config = _hf_config.LlamaConfig(head_dim=cfg.rotary_dim, hidden_size=cfg.rotary_dim, num_attention_heads=1,
                                    num_key_value_heads=1, max_position_embeddings=cfg.max_position,
                                    rope_parameters={"rope_type": "default", "rope_theta": float(cfg.base)})
    return _hf_llama.LlamaRotaryEmbedding(config)


def as_bhsd(x: torch.Tensor) -> torch.Tensor:
    """x[..., seq, head_dim] as q[batch, heads, seq, head_dim]: () -> [1, 1], (h,) -> [1, h],
    (b, h) -> [b, h], (b, h, ...) -> [b, h * ...]."""
    lead = x.shape[:-2]
    if len(lead) == 0:
        return x.reshape(1, 1, *x.shape[-2:])
    if len(lead) == 1:
        return x.reshape(1, lead[0], *x.shape[-2:])
    return x.reshape(lead[0], -1, *x.shape[-2:])


def _cos_sin(emb, q: torch.Tensor, positions: torch.Tensor):
    """cos/sin [batch, seq, rotary_dim] in q's dtype, from per-sample position_ids [batch, seq] (as
    transformers passes them with padding or packing; batch 1 gives Liger's broadcast-cos path)."""
    position_ids = positions.to(q.device).reshape(1, -1).expand(q.shape[0], -1)
    return emb(q, position_ids)


@pe_rope.implementation(layout="half", dtypes=DTYPES, name="liger:llama_eager")
def llama_eager(cfg: pe_rope.Config):
    """transformers' eager apply_rotary_pos_emb with LlamaRotaryEmbedding's cos/sin: what Liger replaces."""
    emb = rotary_embedding(cfg)
    r = cfg.rotary_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        q = as_bhsd(x)
        cos, sin = _cos_sin(emb, q, positions)
        q_rot, q_pass = q[..., :r], q[..., r:]
        q_embed, _ = _hf_llama.apply_rotary_pos_emb(q_rot, q_rot, cos, sin)
        return torch.cat((q_embed, q_pass), dim=-1).reshape(x.shape)

    return apply


def _liger(cfg: pe_rope.Config, hf_layout: bool):
    emb = rotary_embedding(cfg)

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        q = as_bhsd(x)
        if hf_layout:
            # A fresh [batch, seq, heads, head_dim] buffer viewed [batch, heads, seq, head_dim], as
            # q_proj(h).view(b, s, heads, d).transpose(1, 2) is. Allocated, not .contiguous(): at seq_len 1
            # q.transpose(1, 2) already counts as contiguous and would keep x's strides.
            b, h, s, d = q.shape
            buf = torch.empty((b, s, h, d), dtype=q.dtype, device=q.device)
            buf.copy_(q.transpose(1, 2))
            q = buf.transpose(1, 2)
        cos, sin = _cos_sin(emb, q, positions)
        if not INTERPRETING and q.device.type == "cpu":
            # A compiled Triton kernel has no CPU path: run it on the GPU with the cos/sin computed
            # where x is (the counterpart's, bit for bit), and bring the result back.
            q, cos, sin = q.to(GPU), cos.to(GPU), sin.to(GPU)
        k = q.detach().clone()   # clone keeps q's strides
        q_out, _ = _liger_rope.liger_rotary_pos_emb(q, k, cos, sin)
        return q_out.reshape(x.shape).to(x.device)

    return apply


@pe_rope.implementation(layout="half", dtypes=DTYPES, counterpart=llama_eager, **SEQUENCE_CAP,
                        name="liger:rope")
def rope(cfg: pe_rope.Config):
    """Liger's Triton RoPE (liger_rotary_pos_emb) with LlamaRotaryEmbedding's cos/sin; q is x itself,
    [batch, heads, seq, head_dim] as the function's docstring gives it (contiguous when x is)."""
    return _liger(cfg, hf_layout=False)


@pe_rope.implementation(layout="half", dtypes=DTYPES, counterpart=llama_eager, **SEQUENCE_CAP,
                        name="liger:rope_hf_layout")
def rope_hf_layout(cfg: pe_rope.Config):
    """The same, with q laid out as transformers' attention hands it over: a [batch, heads, seq,
    head_dim] view of a fresh [batch, seq, heads, head_dim] projection output (q_proj(h).view(...)
    .transpose(1, 2)), into which Liger writes in place. The upstream gradient is whatever autograd
    passes (pe-spec's: contiguous [batch, heads, seq, head_dim])."""
    return _liger(cfg, hf_layout=True)
