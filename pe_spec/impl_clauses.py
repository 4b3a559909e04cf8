"""Clauses every implementation must meet, whatever its encoding family (impl.*, device.*)."""
from pe_spec.clauses import Clause, register

register(
    Clause(
        id="impl.no-mutation", title="Inputs are not mutated", level="MUST", since="2026.1",
        statement="After a call, x and positions hold exactly the values they held before it.",
        math="x_before == x_after (bitwise), positions_before == positions_after",
        rationale="The encoding is a function; callers reuse q, k and positions.",
        guards_against="in-place rotation of q/k in fused kernels (known-bugs.md P8).",
        references=("known-bugs.md P8",)),
    Clause(
        id="impl.dtype-shape", title="Output dtype, shape and device equal the input's", level="MUST", since="2026.1",
        statement="The output is a torch.Tensor with the same shape, dtype and device as x.",
        math="y.shape == x.shape, y.dtype == x.dtype, y.device == x.device",
        rationale="Callers feed the output straight into attention in the model's dtype.",
        guards_against="outputs silently upcast to float32, broadcasts that add a dimension.",
    ),
    Clause(
        id="impl.batch-independence", title="Batch and head rows are independent", level="MUST", since="2026.1",
        statement="Each (batch, head) row of the output depends only on the same row of the input: permuting the rows permutes the output.",
        math="f(x[perm]) == f(x)[perm] over the leading dims",
        rationale="Positions are shared across batch and heads; nothing mixes rows.",
        guards_against="reshapes that mix heads and sequence, reductions across the batch (known-bugs.md P10).",
        references=("known-bugs.md P10",)),
    Clause(
        id="impl.stride-invariance", title="Non-contiguous inputs give the contiguous result", level="MUST", since="2026.1",
        statement="For a non-contiguous x (transposed, sliced, a view into packed qkv), the output equals the output for x.contiguous().",
        math="f(x_view) == f(x_view.contiguous())",
        rationale="Strides are storage, not meaning.",
        guards_against="kernels that assume contiguity and read the wrong elements (known-bugs.md P9).",
        references=("known-bugs.md P9",)),
    Clause(
        id="impl.determinism", title="Same input, same output", level="MUST", since="2026.1",
        statement="Two calls with equal inputs return bitwise-equal outputs.",
        math="f(x, p) == f(x, p)",
        rationale="The encoding has no state; a cache may grow but must not change values.",
        guards_against="stateful caches rebuilt with different precision (transformers #29496), uninitialised memory.",
    ),
    Clause(
        id="impl.environment", title="Ambient precision settings do not change the result", level="MUST", since="2026.1",
        statement=("The output stays within the tolerance model under an ambient bf16 autocast, and when the kernel "
                   "is built under torch.set_default_dtype(torch.bfloat16), at a freshly built kernel's first call "
                   "(a prefill from position 0) and at the next one, which a kernel may serve from what the "
                   "first call cached."),
        math=("f under autocast(bf16) ~ ref; build(cfg) under default_dtype=bf16 ~ ref; "
              "both for f(x0, p0) then f(x, p), p0 = 0..max(p) (or p itself where max(p) is large)"),
        rationale=("Positional frequencies must be computed in at least fp32 whatever the surrounding precision policy, "
                   "and a cache the first call fills must hold them at that precision."),
        guards_against=("inv_freq @ positions under autocast (transformers #29285, diffusers #13922); float aranges "
                        "recast by DeepSpeed zero.Init or set_default_dtype (transformers #28685); an angle cache "
                        "allocated in the default dtype, read back on later calls (rotary-embedding-torch "
                        "cached_freqs, docs/findings/rotary-embedding-torch.md)."),
        references=("known-bugs.md B-PREC-04, B-PREC-05, B-PREC-10",)),
    Clause(
        id="impl.compile", title="The torch.compile'd kernel meets the tolerance model", level="MUST", since="2026.1",
        statement="Where the kernel allows it, torch.compile(fn) agrees with the reference within the tolerance model.",
        math="compile(f)(x, p) ~ ref(x, p)",
        rationale="Compilers fuse and reorder; a correct kernel stays within the error model.",
        guards_against="torch.compile miscompiles and graph breaks that change precision (known-bugs.md P9).",
        references=("known-bugs.md P9",)),
    Clause(
        id="device.agreement", title="Every device agrees with the CPU", level="MUST", since="2026.1",
        statement="On every available accelerator, the kernel's output agrees with its CPU output within the tolerance model.",
        math="f_dev(x, p) ~ ref(x, p), f_cpu(x, p) ~ ref(x, p), ||f_dev - f_cpu|| <= 2 x allowance per pair",
        rationale="A kernel is one specification, whatever it runs on.",
        guards_against="GPU kernels using fast-math sin/cos, half-precision tables, or different layouts from the CPU path.",
        references=("known-bugs.md P9",)),
    Clause(
        id="device.counterpart", title="An accelerator kernel agrees with its library's eager path", level="MUST",
        since="2026.1",
        statement=("A kernel that declares a counterpart (the library's eager path it replaces) agrees with it on "
                   "the same input, positions and device within the arithmetic part of the tolerance model."),
        math=("||f(x, p)_i - g(x, p)_i|| <= ||x_i|| * A + F per rotated pair i, on cpu and every accelerator, "
              "g = the declared counterpart (tolerance.arithmetic_allowance)"),
        rationale=("Both read the same cos/sin, so they share the angle and its rounding; they differ only in "
                   "the rounding of two products and a sum per channel, at most 4 sqrt(2) u_o ||x_i|| < A ||x_i||. "
                   "Passing rope.reference separately allows each the angle term too, which reaches any rotation "
                   "at long context; this comparison stays at a few output ulps at every position, so a fused "
                   "program that departs from the eager math it replaces (a row offset, a sign, a mask) shows."),
        guards_against=("fused or Triton paths that drift from the eager path: an unfused fallback rotating by "
                        "cos(cos) (Megatron-LM #7465), a Triton miscompile where eager was right (vLLM #40680), "
                        "hard-coded head_dim/2 offsets with partial rotary (Liger-Kernel #1451), Liger-Kernel 0.8.5's "
                        "row stride read from a size-1 seq dim at batched decode (docs/findings/liger.md)."),
        references=("known-bugs.md B-PREC-13, B-KER-04, B-KER-08",)),
)

register(
    Clause(
        id="impl.no-aliasing", title="The output does not alias the inputs", level="MUST", since="2026.1",
        statement=("The returned tensor shares no memory with x or positions, also where the rotation is the "
                   "identity (every position 0)."),
        math="storage(y) and storage(x) are disjoint; storage(y) and storage(positions) are disjoint",
        rationale=("The encoding is a function that returns a new tensor; callers go on to update q and k in "
                   "place (scaling, writing through views into a KV cache), which must not reach the tensors "
                   "they came from."),
        guards_against=("fast paths that return x itself where nothing rotates (all positions 0, a NoPE layer), "
                        "and outputs built as views of the input."),
    ),
)
