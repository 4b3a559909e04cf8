"""Sinusoidal absolute position encodings (Vaswani et al. 2017 and the tensor2tensor family)."""
