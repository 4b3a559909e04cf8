"""clauses.md: every clause in one table, each linking its section on its family's page."""
from __future__ import annotations

from pe_spec.spec import clauses

from .. import markdown as md
from .common import Context, page_for, spec_heading

PAGE = "clauses.md"


def render(ctx: Context) -> str:
    all_c = clauses.all_clauses()
    out = [spec_heading("Clause index"), "", md.generated_by("from the clause registry"), "",
           f"{len(all_c)} clauses. IDs are semantic and stable, never reused; a retired clause keeps its ID. "
           "`pe-spec explain ID` prints one clause in the terminal.", ""]
    rows = []
    for c in all_c:
        title = md.esc(c.title) + (" (retired)" if c.retired else "")
        tests = ", ".join(f"`{t.test}`" for t in ctx.checks.get(c.id, [])) or "none"
        rows.append([f"[`{c.id}`]({page_for(c.prefix)}#{c.id})", c.level, c.since, title, tests])
    return "\n".join(out + md.table(["id", "level", "since", "title", "property test"], rows))
