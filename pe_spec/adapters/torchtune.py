"""torchtune's RoPE modules, driven the way its attention layers drive them.

``pe-spec check torchtune:rope`` (Llama 2/3, Mistral, Gemma: interleaved pairs),
``torchtune:phi3`` and ``torchtune:qwen2`` (half layout, rotate_half). Each builds the module
once per configuration with ``max_seq_len=max_position`` (its cos/sin cache covers exactly the
positions it must serve) and calls it as ``MultiHeadAttention.forward`` does: q/k as
[b, s, n_h, h_d], positions as ``input_pos`` [b, s], or ``input_pos=None`` (the training path,
cache rows 0..s-1) when the positions are exactly 0..s-1. Scaled variants (Llama3ScaledRoPE)
are out of scope until the spec has scalings; see docs/findings/torchtune.md.
"""
from __future__ import annotations

import copy

import torch

from pe_spec import rope as pe_rope   # `rope` is this module's target name
from pe_spec.adapters import require

_modules = require("torchtune.modules", "torchtune")
_phi3 = require("torchtune.models.phi3", "torchtune")
_qwen2 = require("torchtune.models.qwen2", "torchtune")

# The cache holds max_seq_len x head_dim fp32 values (x2 for Phi3/Qwen2's duplicated cos|sin):
# 2**17 positions at head_dim 256 is 256 MiB, the most a check should allocate per config.
MAX_POSITION = 2**17


def _driver(module: torch.nn.Module):
    per_device = {module.cache.device: module}   # model.to(device) moves the cache buffers

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        if x.device not in per_device:
            per_device[x.device] = copy.deepcopy(module).to(x.device)
        mod = per_device[x.device]
        *lead, s, d = x.shape
        b = lead[0] if lead else 1
        # pe-spec's [..., s, d] as torchtune's [b, s, n_h, h_d]: batch first, the other leading dims as heads.
        xt = x.reshape(b, -1, s, d).transpose(1, 2)
        arange = torch.arange(s, device=positions.device)
        input_pos = None if torch.equal(positions, arange) else positions.expand(b, s)
        y = mod(xt, input_pos=input_pos)
        return y.transpose(1, 2).reshape(x.shape)

    return apply


def _build(cls, cfg: pe_rope.Config):
    # All three reshape the cache to the full head_dim: rotary_dim < head_dim cannot be expressed.
    if cfg.rotary_dim != cfg.head_dim:
        raise pe_rope.Unsupported("torchtune rotates the whole head (dim = head_dim)")
    return _driver(cls(dim=cfg.head_dim, max_seq_len=cfg.max_position, base=cfg.base))


@pe_rope.implementation(layout="interleaved", rotary_dims="full", max_position=MAX_POSITION, autograd=True,
                        name="torchtune:rope")
def rope(cfg: pe_rope.Config):
    """torchtune.modules.RotaryPositionalEmbeddings: Meta's Llama reference, pairs (2i, 2i+1), math in fp32."""
    return _build(_modules.RotaryPositionalEmbeddings, cfg)


@pe_rope.implementation(layout="half", rotary_dims="full", max_position=MAX_POSITION, autograd=True,
                        name="torchtune:phi3")
def phi3(cfg: pe_rope.Config):
    """torchtune.models.phi3.Phi3RotaryPositionalEmbeddings: rotate_half against an fp32 cos|sin cache."""
    return _build(_phi3.Phi3RotaryPositionalEmbeddings, cfg)


@pe_rope.implementation(layout="half", rotary_dims="full", max_position=MAX_POSITION, autograd=True,
                        name="torchtune:qwen2")
def qwen2(cfg: pe_rope.Config):
    """torchtune.models.qwen2.Qwen2RotaryPositionalEmbeddings: rotate_half, cos/sin cast to x's dtype."""
    return _build(_qwen2.Qwen2RotaryPositionalEmbeddings, cfg)

