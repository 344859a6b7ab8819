// Checks both browser test files make on a page.
import AxeBuilder from '@axe-core/playwright';

// axe-core's violations of serious or critical impact; the others become diagnostics of `t`.
export async function seriousAxeViolations(t, page) {
  const results = await new AxeBuilder({ page }).analyze();
  const describe = (v) =>
    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target).join(', ')}`;
  const serious = (v) => v.impact === 'serious' || v.impact === 'critical';
  for (const v of results.violations.filter((v) => !serious(v))) t.diagnostic(describe(v));
  return results.violations.filter(serious).map(describe);
}
