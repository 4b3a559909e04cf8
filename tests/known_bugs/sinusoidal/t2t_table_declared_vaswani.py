"""tensor2tensor's get_timing_signal_1d, unchanged, declared as the paper's table.

Bug: the kernel is tensor2tensor's timing signal as written (``[sin | cos]`` halves,
``log(base) / (K - 1)`` increment, an odd dim padded with a zero column), a correct
``tensor2tensor`` table; the bug is the declaration ``convention="vaswani"``, the claim that it
is the function in the paper. It differs in both the layout (halves, not interleaved pairs) and
the frequencies (denominator K - 1, not K), so a consumer that expects the paper's channels
(e.g. loads weights trained against it) gets another function.

Regime: every dim >= 4 (for d = 2 the two conventions coincide: one pair, w_0 = 1, columns
(sin, cos) either way), every position.

Mirrors: tensorflow/tensor2tensor #177 (B-SIN-02: "it's always good to have code that does
exactly what's written in the paper"; the later get_timing_signal_1d still concatenates and uses
the K - 1 increment) and allenai/allennlp #2993 (B-SIN-01: the same table taken for the paper's).

Caught by: sinusoidal.reference (main); sinusoidal.norm and sinusoidal.linear-offset, since the
declared pairs (2i, 2i + 1) hold sin and sin (or cos and cos) of two different frequencies;
and impl.environment and impl.compile. The dot product of two rows does not depend on the channel order, so
sinusoidal.offset-dot passes, as do sinusoidal.bounded and sinusoidal.uniqueness.
"""
import math

import torch

from pe_spec import sinusoidal


def get_timing_signal_1d(positions, channels, min_timescale=1.0, max_timescale=1.0e4):
    num_timescales = channels // 2
    log_timescale_increment = math.log(float(max_timescale) / float(min_timescale)) / max(num_timescales - 1, 1)
    inv_timescales = min_timescale * torch.exp(
        torch.arange(num_timescales, dtype=torch.int64).float() * -log_timescale_increment)
    scaled_time = positions.to(torch.float32)[:, None] * inv_timescales[None, :]
    signal = torch.cat((scaled_time.sin(), scaled_time.cos()), dim=1)
    return torch.nn.functional.pad(signal, (0, channels % 2))


@sinusoidal.implementation(convention="vaswani")  # BUG: this is the tensor2tensor convention
def kernel(cfg: sinusoidal.Config):
    def table(positions: torch.Tensor) -> torch.Tensor:
        signal = get_timing_signal_1d(positions, cfg.dim, max_timescale=cfg.base)
        return signal.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
