"""HuggingFace transformers' positional encodings, driven the way its models drive them.

    pe-spec check transformers:llama      # also gptj, gpt_neox, phi, marian, speech2text, distilbert

Every adapter builds the library's own module from a model config (its caches, its buffers, its
position handling) and calls its own apply function; nothing is re-implemented here. Modules are
built under the ambient default dtype, as ``Model(config)`` is. Rotary modules are never cast to
the input dtype (their ``inv_freq`` stays float32, as ``from_pretrained(dtype=...)`` leaves it);
sinusoidal tables are served in the requested dtype by ``model.to(device, dtype)``. What deviates
from the specification is in docs/findings/transformers.md.
"""
from __future__ import annotations

import inspect

import torch

from pe_spec import rope, sinusoidal
from pe_spec.adapters import require

transformers = require("transformers", "transformers")
from transformers.models.distilbert import modeling_distilbert  # noqa: E402
from transformers.models.gpt_neox import modeling_gpt_neox  # noqa: E402
from transformers.models.gptj import modeling_gptj  # noqa: E402
from transformers.models.llama import modeling_llama  # noqa: E402
from transformers.models.marian import modeling_marian  # noqa: E402
from transformers.models.phi import modeling_phi  # noqa: E402
from transformers.models.speech_to_text import modeling_speech_to_text  # noqa: E402

__all__ = ["llama", "gptj", "gpt_neox", "phi", "marian", "speech2text", "distilbert"]


def _as_heads(x: torch.Tensor) -> torch.Tensor:
    """x[..., seq, head_dim] as HF's q [batch, heads, seq, head_dim]: a view where possible, so
    HF's code meets the strides it would meet after q_proj(...).view(...).transpose(1, 2)."""
    if x.dim() >= 4:
        return x.reshape(-1, *x.shape[-3:])
    return x.reshape(*(1,) * (4 - x.dim()), *x.shape)


def _rope_params(cfg: rope.Config, **extra) -> dict:
    return {"rope_type": "default", "rope_theta": cfg.base, **extra}


def _partial_factor(cfg: rope.Config, factors: tuple[float, ...]) -> float:
    """The model's partial_rotary_factor giving cfg.rotary_dim the way HF derives it, int(head_dim * f)."""
    for f in factors:
        if int(cfg.head_dim * f) == cfg.rotary_dim:
            return f
    raise rope.Unsupported(f"no partial_rotary_factor in {factors} gives int({cfg.head_dim} * f) == {cfg.rotary_dim}")


def _rotary_module_apply(rotary, apply_rotary_pos_emb, rotary_dim: int | None = None):
    """cos/sin from position_ids [1, seq] (HF's shape: one row shared by the batch), then the
    model's apply_rotary_pos_emb with q = k = x; rotary_dim slices q as PhiAttention does."""

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        q = _as_heads(x)
        cos, sin = rotary(q, positions[None, :])
        if rotary_dim is None:
            out, _ = apply_rotary_pos_emb(q, q, cos, sin)
        else:   # PhiAttention.forward: rotate the prefix, concatenate the pass-through channels
            rot, _ = apply_rotary_pos_emb(q[..., :rotary_dim], q[..., :rotary_dim], cos, sin)
            out = torch.cat((rot, q[..., rotary_dim:]), dim=-1)
        return out.reshape(x.shape)

    return apply


# ---- rotary ----

@rope.implementation(layout="half", rotary_dims=("full",), autograd=True, name="transformers:llama")
def llama(cfg: rope.Config):
    """LlamaRotaryEmbedding (cos/sin from position_ids, no table) + modeling_llama.apply_rotary_pos_emb."""
    config = transformers.LlamaConfig(hidden_size=cfg.head_dim, num_attention_heads=1, head_dim=cfg.head_dim,
                                      max_position_embeddings=cfg.max_position, rope_parameters=_rope_params(cfg))
    return _rotary_module_apply(modeling_llama.LlamaRotaryEmbedding(config), modeling_llama.apply_rotary_pos_emb)


# GPT-J's table is [max_position, rotary_dim] fp32 and GPTJAttention copies it whole once per
# call (.repeat over the batch): 2**16 positions keeps it <= 64 MiB and reaches the 2**16 regime.
@rope.implementation(layout="interleaved", bases=(10000.0,), max_position=2**16, autograd=True,
                     name="transformers:gptj")
def gptj(cfg: rope.Config):
    """GPTJAttention's embed_positions buffer (create_sinusoidal_positions, base fixed at 10000),
    gathered by position_ids as GPTJAttention.forward does, and modeling_gptj.apply_rotary_pos_emb
    (rotate_every_two) on the rotary_dim prefix of q laid out [batch, seq, heads, head_dim]."""
    config = transformers.GPTJConfig(n_embd=cfg.head_dim, n_head=1, rotary_dim=cfg.rotary_dim,
                                     n_positions=cfg.max_position)
    embed_positions = modeling_gptj.create_sinusoidal_positions(config.max_position_embeddings, config.rotary_dim)
    r = config.rotary_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        query = _as_heads(x).transpose(1, 2)                      # GPT-J's _split_heads(rotary=True) layout
        position_ids = positions[None, :]
        # GPTJAttention._get_embed_positions and forward, verbatim:
        table = embed_positions.to(position_ids.device).repeat(position_ids.shape[0], 1, 1)
        repeated_position_ids = position_ids.unsqueeze(-1).repeat(1, 1, table.shape[-1])
        sincos = torch.gather(table, 1, repeated_position_ids).to(query.dtype)
        sin, cos = torch.split(sincos, sincos.shape[-1] // 2, dim=-1)
        q_rot = modeling_gptj.apply_rotary_pos_emb(query[:, :, :, :r], sin, cos)
        out = torch.cat([q_rot, query[:, :, :, r:]], dim=-1)
        return out.transpose(1, 2).reshape(x.shape)

    return apply


# Pythia / GPT-NeoX-20B rotate a quarter of each head (rotary_pct = 0.25); 1.0 is the same code's full branch.
@rope.implementation(layout="half", rotary_dims=(0.25, 1.0), autograd=True, name="transformers:gpt_neox")
def gpt_neox(cfg: rope.Config):
    """GPTNeoXRotaryEmbedding with partial_rotary_factor (cos/sin only for the rotary prefix) and
    modeling_gpt_neox.apply_rotary_pos_emb, which splits and re-joins the pass-through channels itself."""
    factor = _partial_factor(cfg, (0.25, 1.0))
    config = transformers.GPTNeoXConfig(hidden_size=cfg.head_dim, num_attention_heads=1,
                                        max_position_embeddings=cfg.max_position,
                                        rope_parameters=_rope_params(cfg, partial_rotary_factor=factor))
    return _rotary_module_apply(modeling_gpt_neox.GPTNeoXRotaryEmbedding(config),
                                modeling_gpt_neox.apply_rotary_pos_emb)


# phi-1 and phi-1.5 use partial_rotary_factor 0.5, phi-2 uses 0.4.
@rope.implementation(layout="half", rotary_dims=(0.4, 0.5), autograd=True, name="transformers:phi")
def phi(cfg: rope.Config):
    """PhiRotaryEmbedding with partial_rotary_factor; PhiAttention's slicing into rotary and
    pass-through channels around modeling_phi.apply_rotary_pos_emb."""
    factor = _partial_factor(cfg, (0.4, 0.5))
    config = transformers.PhiConfig(hidden_size=cfg.head_dim, num_attention_heads=1,
                                    max_position_embeddings=cfg.max_position,
                                    rope_parameters=_rope_params(cfg, partial_rotary_factor=factor))
    rotary_ndims = int(cfg.head_dim * config.rope_parameters["partial_rotary_factor"])   # PhiAttention.__init__
    return _rotary_module_apply(modeling_phi.PhiRotaryEmbedding(config), modeling_phi.apply_rotary_pos_emb,
                                rotary_dim=rotary_ndims)


# ---- sinusoidal tables ----
# Their frequencies are fixed at base 10000. Marian and DistilBERT fill their tables with a
# Python loop over every (position, channel) (~2.5 us each): 2048 positions (their checkpoints
# use 512) keep one build near a second.

def _served(module: torch.nn.Module, cfg: sinusoidal.Config) -> torch.nn.Module:
    """A model's table as a user serves it: model.to(device, dtype) casts the whole table once."""
    return module.to(device=cfg.device, dtype=getattr(torch, cfg.dtype)).eval()


@sinusoidal.implementation(convention="concat", bases=(10000.0,), max_position=2048, name="transformers:marian")
def marian(cfg: sinusoidal.Config):
    """MarianEncoder's embed_positions: a frozen nn.Embedding that MarianPreTrainedModel._init_weights
    fills with create_weight() ([sin | cos], Vaswani frequencies, computed in float64), read by its
    forward with explicit position_ids (the decoder's path)."""
    config = transformers.MarianConfig(d_model=cfg.dim, encoder_layers=0, decoder_layers=0, encoder_attention_heads=1,
                                       decoder_attention_heads=1, vocab_size=4, pad_token_id=0,
                                       decoder_start_token_id=0, max_position_embeddings=cfg.max_position)
    embed_positions = _served(modeling_marian.MarianEncoder(config), cfg).embed_positions

    def table(positions: torch.Tensor) -> torch.Tensor:
        positions = positions.to(cfg.device)
        return embed_positions((1, len(positions)), position_ids=positions)

    return table


@sinusoidal.implementation(convention="fairseq", bases=(10000.0,), max_position=8192,
                           name="transformers:speech2text")
def speech2text(cfg: sinusoidal.Config):
    """Speech2TextDecoder's embed_positions (fairseq's table: rows start at padding_idx + 1 = 2),
    driven through its own position handling: each run of consecutive positions s, s+1, ... is one
    forward of non-padding input_ids with s cached tokens before them, as in incremental decoding
    (the keyword is past_key_values_length up to transformers 5.23, cache_length from 5.24)."""
    config = transformers.Speech2TextConfig(d_model=cfg.dim, encoder_layers=0, decoder_layers=0,
                                            decoder_attention_heads=1, encoder_attention_heads=1, vocab_size=4,
                                            pad_token_id=1, max_target_positions=cfg.max_position)  # fairseq's 1
    embed_positions = _served(modeling_speech_to_text.Speech2TextDecoder(config), cfg).embed_positions
    token = config.pad_token_id + 1                        # any id but the padding id
    offset = next(k for k in ("cache_length", "past_key_values_length")
                  if k in inspect.signature(embed_positions.forward).parameters)

    def table(positions: torch.Tensor) -> torch.Tensor:
        p = positions.tolist()
        runs, start = [], 0
        for i in range(1, len(p) + 1):
            if i == len(p) or p[i] != p[i - 1] + 1:
                runs.append((p[start], i - start))
                start = i
        rows = [embed_positions(torch.full((1, n), token, device=cfg.device), **{offset: s})[0] for s, n in runs]
        return torch.cat(rows)

    return table


@sinusoidal.implementation(convention="vaswani", bases=(10000.0,), max_position=2048,
                           name="transformers:distilbert")
def distilbert(cfg: sinusoidal.Config):
    """DistilBertModel with sinusoidal_pos_embds=True: DistilBertPreTrainedModel._init_weights fills
    embeddings.position_embeddings with create_sinusoidal_embeddings (interleaved sin/cos, Vaswani
    frequencies, float64); Embeddings.forward reads it with position_ids."""
    config = transformers.DistilBertConfig(dim=cfg.dim, n_layers=0, n_heads=1, hidden_dim=4, vocab_size=4,
                                           max_position_embeddings=cfg.max_position, sinusoidal_pos_embds=True)
    position_embeddings = _served(modeling_distilbert.DistilBertModel(config), cfg).embeddings.position_embeddings

    def table(positions: torch.Tensor) -> torch.Tensor:
        return position_embeddings(positions.to(cfg.device))

    return table
