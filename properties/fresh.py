"""A kernel's first use in a fresh interpreter under a bf16 default dtype (impl.environment#fresh-process).

A module-level cache built at first use (the frequencies of every layer, as under DeepSpeed's
zero.Init or a loader that sets a bf16 default before building the model) stays wrong for the
rest of the process; a check whose earlier tests warmed that cache never sees it. So a new
interpreter sets torch.set_default_dtype(torch.bfloat16), only then imports the kernel's target,
builds it and calls it once; the inputs and the output travel as torch.save files.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import torch

from . import limits

# What the fresh interpreter runs: argv = target, config (JSON), inputs file, output file.
_CHILD = """
import json, sys
import torch
torch.set_default_dtype(torch.bfloat16)
from pe_properties import loading
from pe_spec.spec import registry
target, config, inputs, output = sys.argv[1:5]
impl = loading.load(target)
fn = impl.factory(registry.family_of(impl).config(**json.loads(config)))
args = torch.load(inputs)
torch.set_default_dtype(torch.bfloat16)   # the kernel's import may have reset it
torch.save(fn(*args), output)
"""
# The child imports torch and the kernel before its one call: a few seconds on a CPU.
STARTUP_SECONDS = 60.0


@dataclass
class FreshCall:
    output: object = None       # what the call returned (a tensor, or whatever torch.save kept)
    error: str = ""             # why there is no output: the child's last stderr lines


def first_call(target: str, config_json: str, args: tuple) -> FreshCall:
    """Run target's first call on args in a fresh interpreter under the bf16 default dtype."""
    with tempfile.TemporaryDirectory(prefix="pe-spec-fresh-") as tmp:
        inputs, output = os.path.join(tmp, "inputs.pt"), os.path.join(tmp, "output.pt")
        torch.save(tuple(a.detach().contiguous().clone() for a in args), inputs)
        # Under the time limit of a call (and the interpreter's start): subprocess.run kills the
        # child when the limit's exception interrupts it.
        with limits.implementation_call("fresh", extra=STARTUP_SECONDS):
            done = subprocess.run([sys.executable, "-c", _CHILD, target, config_json, inputs, output],
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])[-600:]
            return FreshCall(error=f"the fresh interpreter exited with status {done.returncode}: {tail}")
        return FreshCall(output=torch.load(output, weights_only=False))
