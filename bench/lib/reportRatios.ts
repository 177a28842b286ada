/**
 * procwire against each baseline, as ratios of figures from the same run:
 * one table against the JavaScript floor and peers, one against the C
 * limits (how far procwire is from what the mechanism allows).
 */
import type { CaseFigures } from './aggregate.js';
import { CASES, type CaseInfo } from './cases.js';
import { rate, ratio, sizeLabel, table } from './format.js';
import { bestPeer } from './targets.js';

/** A procwire row's label: its id without the library ("unix", "shm/novalidate"). */
const rowLabel = (info: CaseInfo) => info.id.replace(/^procwire\//, '');

function ratioTables(
  figures: ReadonlyMap<string, CaseFigures>,
  sizes: readonly number[],
  baselines: readonly CaseInfo[],
  withBestPeer: boolean,
): { latency: string; throughput: string } {
  const procwires = CASES.filter((c) => c.role === 'procwire' && figures.has(c.id));
  const header = ['procwire', 'size', ...baselines.map((b) => b.id)];
  const latency: string[][] = [];
  const throughput: string[][] = [];
  const over = (a: number | undefined, b: number | undefined) => ratio(a !== undefined && b !== undefined ? a / b : undefined);
  for (const p of procwires) {
    const pw = figures.get(p.id)!;
    for (const size of sizes) {
      const label = [rowLabel(p), sizeLabel(size)];
      latency.push([...label, ...baselines.map((b) => over(pw.latency.pinned[size]?.p50, figures.get(b.id)!.latency.pinned[size]?.p50))]);
      const mine = pw.throughput[size]?.msgsPerSec;
      const cells = [...label, ...baselines.map((b) => over(mine, figures.get(b.id)!.throughput[size]?.msgsPerSec))];
      if (withBestPeer) cells.push(over(mine, bestPeer(figures, size)?.msgsPerSec));
      throughput.push(cells);
    }
  }
  return {
    latency: table(header, latency, 2),
    throughput: table(withBestPeer ? [...header, 'best peer'] : header, throughput, 2),
  };
}

export function renderRatios(figures: ReadonlyMap<string, CaseFigures>, sizes: readonly number[]): string[] {
  const hasProcwire = CASES.some((c) => c.role === 'procwire' && figures.has(c.id));
  if (!hasProcwire) return [];
  const out: string[] = [];
  const js = CASES.filter((c) => (c.role === 'floor' || c.role === 'peer') && figures.has(c.id));
  if (js.length) {
    const t = ratioTables(figures, sizes, js, true);
    out.push('procwire against each JavaScript baseline — pinned p50 round trip, procwire / baseline (below 1.00x: procwire is faster):');
    out.push(t.latency, '');
    out.push('procwire against each JavaScript baseline — one-way msgs/s, procwire / baseline (above 1.00x: procwire is faster):');
    out.push(t.throughput);
    const bests = sizes.map((size) => {
      const best = bestPeer(figures, size);
      return `${sizeLabel(size)}: ${best ? `${best.id} ${rate(best.msgsPerSec)}` : '–'}`;
    });
    out.push(`best peer one-way: ${bests.join('; ')}`, '');
  }
  // memcpy has no round trip or message rate: it belongs to the 1 MiB table only.
  const limits = CASES.filter((c) => c.role === 'limit' && !c.programArgs && figures.has(c.id));
  if (limits.length) {
    const t = ratioTables(figures, sizes, limits, false);
    out.push('procwire against the C limits — pinned p50 round trip, procwire / C (how many times the physical limit):');
    out.push(t.latency, '');
    out.push('procwire against the C limits — one-way msgs/s, procwire / C (the share of the physical limit reached):');
    out.push(t.throughput, '');
  }
  return out;
}
