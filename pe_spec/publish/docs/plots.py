"""The PNGs under docs/plots/: the property matrix's two plots, then each family's (its ``plots``).

They are written with no timestamp or software metadata, but their bytes depend on the
matplotlib and FreeType versions, so ``--check`` only requires that they exist; each page embeds
a fingerprint of the data a plot draws, so a change of that data shows up as Markdown drift.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import hooks
from .. import matrix as M
from . import matrix_page

MATRIX_PLOTS = ("plots/encoding_heatmaps.png", "plots/dot_product_vs_offset.png")


def all_plots() -> tuple[str, ...]:
    """Every plot the docs embed, relative to docs/."""
    return MATRIX_PLOTS + tuple(p for _, family_plots in hooks.providers("PLOTS") for p in family_plots)


def save(fig: Any, path: Path, *, dpi: int) -> Path:
    """Write a figure without metadata that would change on every run, and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return path


def render(out_dir: Path) -> list[Path]:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("pe_spec.publish.docs: the plots need matplotlib (pip install matplotlib, or pe-spec[plots])")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9})
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    written = [_heatmaps(out_dir / MATRIX_PLOTS[0], plt), _offsets(out_dir / MATRIX_PLOTS[1], plt)]
    for _, family_plots in hooks.providers("plots"):
        written += family_plots(out_dir, plt)
    return written


def _heatmaps(path: Path, plt: Any) -> Path:
    heat = matrix_page.heatmap_data()
    n = matrix_page.HEATMAP_POSITIONS
    keys = M.rows()
    fig, axes = plt.subplots(2, (len(keys) + 1) // 2, figsize=(12, 6.2))
    for ax, key in zip(axes.ravel(), keys):
        v = np.ma.masked_invalid(heat[key].T)
        im = ax.imshow(v, aspect="auto", origin="lower", interpolation="nearest", cmap="viridis",
                       extent=(-0.5, n - 0.5, -0.5, M.DIM - 0.5))
        ax.axvline(M.TRAIN_LENGTH - 0.5, color="white", ls="--", lw=1.2)
        ax.set_title(M.make_encoding(key).name)
        ax.set_xlabel("position p")
        ax.set_ylabel("channel")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        undefined = np.flatnonzero(np.isnan(heat[key]).all(axis=1))
        if undefined.size:       # say why the panel is blank there (the learned table's IndexError)
            _, err = M.try_encode(M.make_encoding(key), heat["p"][undefined[:1]], n)
            ax.text((undefined[0] + n) / 2, M.DIM / 2, f"{err.split(':')[0]}\n(no row)", ha="center",
                    va="center", fontsize=8)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"The {len(keys)} encodings over positions 0..{n - 1} x {M.DIM} channels "
                 f"(dashed: training length {M.TRAIN_LENGTH})")
    fig.tight_layout()
    return save(fig, path, dpi=100)


def _offsets(path: Path, plt: Any) -> Path:
    data = matrix_page.offset_data()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), sharey=True)
    for ax, grid, plot in ((axes[0], "lin", axes[0].plot), (axes[1], "log", axes[1].semilogx)):
        for c in data["curves"][grid]:
            solid = c.style == "-"      # solid lines wider and underneath, so dashed ones on them stay visible
            plot(data[f"k_{grid}"], c.values, c.style, color=c.color, lw=1.6 if solid else 1.2,
                 zorder=2 if solid else 3, label=c.label)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("offset k" + (" (log scale)" if grid == "log" else ""))
    axes[0].set_ylabel("score / score at k = 0")
    axes[0].legend(loc="upper right", fontsize=7.5)
    fig.suptitle(f"Dot product against offset, d = {matrix_page.OFFSET_DIM}, base {matrix_page.OFFSET_BASE:g} "
                 "(normalised to 1 at k = 0)")
    fig.tight_layout()
    return save(fig, path, dpi=110)
