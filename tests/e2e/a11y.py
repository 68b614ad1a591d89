"""Measuring a page as a person at a hall kiosk or on a phone meets it (issue 17): text sizes, line heights and
touch targets read from Chromium's layout, and axe-core's WCAG 2.1 AA rules (npm, installed by tests/e2e/npm.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.e2e import npm

AXE_VERSION = "4.10.3"

# Everything a finger or a pointer can activate. A tick box inside a <label> counts as the label's box: the whole
# row is the target (WCAG 2.5.8 allows it). A link inside running text (its parent says more than the link) is
# exempt, as WCAG 2.5.8's inline exception says.
MEASURE = """(scope) => {
  const root = scope ? document.querySelector(scope) : document.body;
  const shown = (node) => {
    if (!node.isConnected || node.closest("[hidden], .yishi-visually-hidden, [aria-hidden=true]")) return false;
    const style = getComputedStyle(node), box = node.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 0 && box.height > 0;
  };
  const texts = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!node.textContent.trim() || !parent || !shown(parent) || parent.closest("script, style, noscript")) continue;
    const style = getComputedStyle(parent), size = parseFloat(style.fontSize);
    const line = style.lineHeight === "normal" ? 1.2 : parseFloat(style.lineHeight) / size;
    texts.push({size: size, line: line, text: node.textContent.trim().slice(0, 20), tag: parent.tagName.toLowerCase(),
                cls: parent.className || ""});
  }
  const targets = [];
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex='0']";
  root.querySelectorAll(selector).forEach((node) => {
    if (node.classList.contains("yishi-log") || (!shown(node) && node.type !== "checkbox")) return;
    const box = node.type === "checkbox" ? node.closest("label") || node : node;
    if (!shown(box)) return;
    if (node.tagName === "A" && node.parentElement
        && node.parentElement.textContent.trim() !== node.textContent.trim()) return;  // inline in running text
    const rect = box.getBoundingClientRect();
    targets.push({size: Math.min(rect.width, rect.height), width: rect.width, height: rect.height,
                  what: (node.tagName.toLowerCase() + "." + (node.className || node.type || "")).slice(0, 40),
                  text: (node.textContent || node.value || node.getAttribute("aria-label") || "").trim().slice(0, 16)});
  });
  const overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  return {texts: texts, targets: targets, overflow: overflow};
}"""


@dataclass
class Figures:
    """One surface in one state: the smallest text, line height and target, and what falls below each threshold."""

    name: str
    texts: list[dict]
    targets: list[dict]
    overflow: int
    violations: list[dict] = field(default_factory=list)

    @property
    def smallest_text(self) -> float:
        return min(t["size"] for t in self.texts)

    @property
    def smallest_line(self) -> float:
        return min(t["line"] for t in self.texts)

    @property
    def smallest_target(self) -> float:
        return min((t["size"] for t in self.targets), default=0.0)

    def texts_below(self, px: float) -> list[dict]:
        return [t for t in self.texts if t["size"] < px - 0.01]

    def lines_below(self, ratio: float) -> list[dict]:
        return [t for t in self.texts if t["line"] < ratio - 0.01]

    def targets_below(self, px: float) -> list[dict]:
        return [t for t in self.targets if t["size"] < px - 0.01]

    def line(self) -> str:
        return (f"{self.name}: smallest text {self.smallest_text:.1f} px, line height {self.smallest_line:.2f}, "
                f"smallest target {self.smallest_target:.0f} px of {len(self.targets)}, "
                f"under 24/44/60 px: {len(self.targets_below(24))}/{len(self.targets_below(44))}/"
                f"{len(self.targets_below(60))}, text under 18 px: {len(self.texts_below(18))}, "
                f"axe violations: {len(self.violations)}, horizontal overflow {self.overflow} px")


def measure(page, name: str, scope: str | None = None, axe: bool = True) -> Figures:
    """The figures of what the page shows now (scope: a CSS selector, else the whole page)."""
    raw = page.evaluate(MEASURE, scope)
    figures = Figures(name, raw["texts"], raw["targets"], raw["overflow"])
    if axe:
        figures.violations = run_axe(page)
    return figures


def run_axe(page) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA rules on the page; each violation with the nodes it names."""
    if not page.evaluate("() => !!window.axe"):
        source = (npm.install("axe-core", AXE_VERSION) / "axe.min.js").read_text(encoding="utf-8")
        page.evaluate("(source) => { (0, eval)(source); }", source)  # needs a context with bypass_csp
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
        return r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""")
    return result
