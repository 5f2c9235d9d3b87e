/** Examples per label, with a bar each: an imbalance shows at a glance. */
export function LabelCounts({ counts }: { counts: Record<string, number> }) {
  const rows = Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const max = Math.max(1, ...rows.map(([, n]) => n));
  if (rows.length === 0) return <p class="muted">No examples yet: upload some.</p>;
  return (
    <table class="compact" data-testid="label-counts">
      <thead>
        <tr>
          <th>Label</th>
          <th class="num">Examples</th>
          <th class="bar-cell" />
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, n]) => (
          <tr key={label} data-testid="label-count" data-label={label} data-count={n}>
            <td>{label}</td>
            <td class="num">{n}</td>
            <td class="bar-cell">
              <div class="hbar" style={{ width: `${(100 * n) / max}%` }} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
