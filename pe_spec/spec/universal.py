"""Clauses every implementation must meet, whatever its family (impl.*, device.*).

Each is stated once, in terms every family shares (the inputs of a call, its output, the
tolerance model); what a clause means for one family, where that needs saying, and the clauses
that cannot apply to a family, are in that family's record (``Family.universal``,
``Family.not_applicable``), so every report lists every universal clause with a status.
"""
from pe_spec.spec.clauses import Clause, register

register(
    Clause(
        id="impl.no-mutation", title="Inputs are not mutated", level="MUST", since="2026.1",
        statement="After a call, every input of the kernel holds exactly the values it held before it.",
        math="input_before == input_after (bitwise), for every input tensor",
        rationale="The encoding is a function; callers reuse q, k and positions.",
        guards_against="in-place rotation of q/k in fused kernels (known-bugs.md P8), positions shifted in place "
                       "(fairseq's make_positions pattern applied to the caller's tensor).",
        references=("known-bugs.md P8",)),
    Clause(
        id="impl.dtype-shape", title="Output dtype, shape and device are the contract's", level="MUST",
        since="2026.1",
        statement="The output is a torch.Tensor with the shape, dtype and device the family's contract prescribes.",
        math="y.shape, y.dtype, y.device == those the contract prescribes for the call",
        rationale="Callers feed the output straight into attention in the model's dtype.",
        guards_against="outputs silently upcast to float32, broadcasts that add a dimension.",
    ),
    Clause(
        id="impl.batch-independence", title="Independent rows stay independent", level="MUST", since="2026.1",
        statement=("Each independent row of a call depends only on its own inputs: permuting the rows permutes "
                   "the output, and a row computed alone gives the same result as in the full call."),
        math="f(rows[perm]) == f(rows)[perm];  f(rows[-1:]) == f(rows)[-1:]",
        rationale="Nothing in a positional encoding mixes rows.",
        guards_against="reshapes that mix heads and sequence, reductions across the batch (known-bugs.md P10), "
                       "rows read from a fixed index instead of their own.",
        references=("known-bugs.md P10",)),
    Clause(
        id="impl.stride-invariance", title="Non-contiguous inputs give the contiguous result", level="MUST",
        since="2026.1",
        statement=("For a non-contiguous input (transposed, sliced, a view into a packed buffer), the output "
                   "equals the output for its contiguous copy."),
        math="f(x_view) == f(x_view.contiguous())",
        rationale="Strides are storage, not meaning.",
        guards_against="kernels that assume contiguity and read the wrong elements (known-bugs.md P9).",
        references=("known-bugs.md P9",)),
    Clause(
        id="impl.determinism", title="Same input, same output", level="MUST", since="2026.1",
        statement="Two calls with equal inputs return bitwise-equal outputs, whatever call came in between.",
        math="f(a) == f(a), with f(b) called in between",
        rationale="The encoding has no state; a cache may grow but must not change values.",
        guards_against="stateful caches rebuilt with different precision (transformers #29496), uninitialised memory.",
    ),
    Clause(
        id="impl.environment", title="Ambient precision settings do not change the result", level="MUST",
        since="2026.1",
        statement=("The output stays within the tolerance model under the ambient precision settings models run "
                   "under (a bf16 autocast region; the kernel built under torch.set_default_dtype(torch.bfloat16)), "
                   "at a freshly built kernel's first call (a prefill from position 0) and at the next one, which "
                   "a kernel may serve from what the first call cached."),
        math=("f under autocast(bf16) ~ ref; build(cfg) under default_dtype=bf16 ~ ref; "
              "both for f(p0) then f(p), p0 = 0..max(p) (or p itself where max(p) is large)"),
        rationale=("Positional frequencies must be computed in at least fp32 whatever the surrounding precision policy, "
                   "and a cache the first call fills must hold them at that precision."),
        guards_against=("inv_freq @ positions under autocast (transformers #29285, diffusers #13922); float aranges "
                        "recast by DeepSpeed zero.Init or set_default_dtype (transformers #28685); an angle cache "
                        "allocated in the default dtype, read back on later calls (rotary-embedding-torch "
                        "cached_freqs, docs/findings/rotary-embedding-torch.md)."),
        references=("known-bugs.md B-PREC-04, B-PREC-05, B-PREC-10",)),
    Clause(
        id="impl.compile", title="The torch.compile'd kernel meets the tolerance model", level="MUST",
        since="2026.1",
        statement="Where the kernel allows it, torch.compile(fn) agrees with the reference within the tolerance model.",
        math="compile(f)(inputs) ~ ref(inputs)",
        rationale="Compilers fuse and reorder; a correct kernel stays within the error model.",
        guards_against="torch.compile miscompiles and graph breaks that change precision (known-bugs.md P9).",
        references=("known-bugs.md P9",)),
    Clause(
        id="impl.no-aliasing", title="The output aliases neither the inputs nor the kernel's state", level="MUST",
        since="2026.1",
        statement=("The returned tensor shares no memory with the inputs, nor with state a later call reads: "
                   "writing into it changes neither the inputs nor what the next call returns."),
        math=("storage(y) and storage(input) are disjoint for every input; "
              "after y[...] = garbage, f(inputs) is bitwise what it was"),
        rationale=("The encoding is a function that returns a new tensor; callers go on to update q and k in "
                   "place (scaling, writing through views into a KV cache), or add a table into their "
                   "embeddings in place, which must not reach the tensors they came from."),
        guards_against=("fast paths that return x itself where nothing rotates (all positions 0, a NoPE layer), "
                        "outputs built as views of the input, tables returned as slices of a cached buffer (the "
                        "caller's in-place add then corrupts every later call)."),
    ),
    Clause(
        id="device.agreement", title="Every device agrees with the CPU", level="MUST", since="2026.1",
        statement="On every available accelerator, the kernel's output agrees with its CPU output within the tolerance model.",
        math="f_dev ~ ref, f_cpu ~ ref, ||f_dev - f_cpu|| <= 2 x allowance per pair",
        rationale="A kernel is one specification, whatever it runs on.",
        guards_against="GPU kernels using fast-math sin/cos, half-precision tables, or different layouts from the CPU path.",
        references=("known-bugs.md P9",)),
    Clause(
        id="device.counterpart", title="An accelerator kernel agrees with its library's eager path", level="MUST",
        since="2026.1",
        statement=("A kernel that declares a counterpart (the library's eager path it replaces) agrees with it on "
                   "the same inputs and device within the arithmetic part of the tolerance model."),
        math=("||f(x, p)_i - g(x, p)_i|| <= ||x_i|| * A + F per rotated pair i, on cpu and every accelerator, "
              "g = the declared counterpart (tolerance.arithmetic_allowance)"),
        rationale=("Both read the same cos/sin, so they share the angle and its rounding; they differ only in "
                   "the rounding of two products and a sum per channel, at most 4 sqrt(2) u_o ||x_i|| < A ||x_i||. "
                   "Passing the reference clause separately allows each the angle term too, which reaches any "
                   "rotation at long context; this comparison stays at a few output ulps at every position, so a "
                   "fused program that departs from the eager math it replaces (a row offset, a sign, a mask) shows."),
        guards_against=("fused or Triton paths that drift from the eager path: an unfused fallback rotating by "
                        "cos(cos) (Megatron-LM #7465), a Triton miscompile where eager was right (vLLM #40680), "
                        "hard-coded head_dim/2 offsets with partial rotary (Liger-Kernel #1451), Liger-Kernel 0.8.5's "
                        "row stride read from a size-1 seq dim at batched decode (docs/findings/liger.md)."),
        references=("known-bugs.md B-PREC-13, B-KER-04, B-KER-08",)),
)
