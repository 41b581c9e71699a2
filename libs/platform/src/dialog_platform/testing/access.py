"""axe-core in a Playwright page: the accessibility rules every browser test of ours checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# npm's axe-core, installed by `make setup` (package.json at the repository's root).
AXE = Path(__file__).resolve().parents[5] / "node_modules" / "axe-core" / "axe.min.js"


async def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 AA rules):
    each with its rule, impact, help, number of nodes and the first nodes with what is wrong.

    Evaluated through the DevTools protocol, so the page's own CSP (no inline script) stays on.
    """
    assert AXE.is_file(), f"{AXE} missing: run `make setup` (npm ci)"
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    found = await page.evaluate(
        """async () => {
          const result = await axe.run(document, {
            runOnly: {
              type: "tag",
              values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
            },
            resultTypes: ["violations"],
          });
          return result.violations
            .filter((v) => ["serious", "critical"].includes(v.impact))
            .map((v) => ({ id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                           nodes: v.nodes.slice(0, 8).map((n) => n.target.join(" ") +
                             (n.any[0] ? `: ${n.any[0].message}` : "")) }));
        }"""
    )
    return list(found)
