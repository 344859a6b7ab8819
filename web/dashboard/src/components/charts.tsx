// Inline SVG charts (no chart library): a horizontal bar chart and a multi-series line chart,
// each with a text alternative (a table a screen reader reads instead).
import { formatCount } from "../lib/format";

export interface Bar {
  label: string;
  value: number;
  tone?: "ok" | "warn" | "bad" | "neutral" | "info";
}

export function BarChart({ id, title, bars }: { id: string; title: string; bars: Bar[] }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rowH = 28;
  const labelW = 180;
  const width = 520;
  const height = bars.length * rowH + 4;
  return (
    <figure className="chart" id={id}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-caption`} preserveAspectRatio="xMinYMin meet">
        {bars.map((b, i) => {
          const w = Math.max(b.value > 0 ? 2 : 0, ((width - labelW - 70) * b.value) / max);
          const y = i * rowH + 2;
          return (
            <g key={b.label}>
              <text x={labelW - 8} y={y + rowH / 2 + 5} textAnchor="end" className="chart-label">{b.label}</text>
              <rect x={labelW} y={y + 4} width={w} height={rowH - 10} rx="3" className={`bar bar-${b.tone ?? "info"}`} />
              <text x={labelW + w + 6} y={y + rowH / 2 + 5} className="chart-value">{formatCount(b.value)}</text>
            </g>
          );
        })}
      </svg>
      <figcaption id={`${id}-caption`}>
        {title}: {bars.map((b) => `${b.label} ${formatCount(b.value)}`).join(", ")}
      </figcaption>
    </figure>
  );
}

export interface Series {
  name: string;
  className: string;
  values: number[];
}

export function LineChart({ id, title, labels, series }: { id: string; title: string; labels: string[]; series: Series[] }) {
  const width = 640;
  const height = 220;
  const pad = { l: 56, r: 12, t: 12, b: 28 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => pad.l + ((width - pad.l - pad.r) * i) / n;
  const y = (v: number) => height - pad.b - ((height - pad.t - pad.b) * v) / max;
  const ticks = [0, max / 2, max];
  return (
    <figure className="chart" id={id}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-caption`}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={width - pad.r} y1={y(t)} y2={y(t)} className="grid" />
            <text x={pad.l - 6} y={y(t) + 4} textAnchor="end" className="chart-label">{formatCount(t)}</text>
          </g>
        ))}
        {labels.length > 0 && (
          <>
            <text x={pad.l} y={height - 8} className="chart-label">{labels[0]}</text>
            <text x={width - pad.r} y={height - 8} textAnchor="end" className="chart-label">{labels[labels.length - 1]}</text>
          </>
        )}
        {series.map((s) => (
          <polyline
            key={s.name}
            className={`line ${s.className}`}
            fill="none"
            points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption id={`${id}-caption`}>
        <span className="sr-only">{title}. </span>
        <span className="legend">
          {series.map((s) => (
            <span key={s.name} className="legend-item">
              <span className={`swatch ${s.className}`} aria-hidden="true" /> {s.name}: {formatCount(s.values.reduce((a, b) => a + b, 0))} total
            </span>
          ))}
        </span>
      </figcaption>
    </figure>
  );
}
