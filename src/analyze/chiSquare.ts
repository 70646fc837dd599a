/**
 * Pearson's chi-square goodness-of-fit test: are observed counts likely under the expected shares?
 * The distribution function is @stdlib's (regularized lower incomplete gamma), a pure function with no I/O.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';

export interface ChiSquareResult {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  /** P(X ≥ statistic) for X ~ χ²(df): the chance of counts at least this uneven if the shares are right. */
  readonly pValue: number;
  readonly expected: readonly number[];
}

/** `shares` need not sum to 1 (they are normalized); categories with share 0 must have count 0 and are skipped. */
export function chiSquareTest(counts: readonly number[], shares: readonly number[]): ChiSquareResult | null {
  const total = counts.reduce((a, b) => a + b, 0);
  const shareSum = shares.reduce((a, b) => a + b, 0);
  if (total === 0 || shareSum <= 0 || counts.length !== shares.length) return null;
  let statistic = 0;
  let categories = 0;
  const expected: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    const e = (total * shares[i]!) / shareSum;
    expected.push(e);
    if (e === 0) {
      if (counts[i]! > 0)
        return { statistic: Infinity, degreesOfFreedom: counts.length - 1, pValue: 0, expected };
      continue;
    }
    categories++;
    statistic += (counts[i]! - e) ** 2 / e;
  }
  const degreesOfFreedom = categories - 1;
  if (degreesOfFreedom < 1) return null;
  const pValue = Math.max(0, 1 - chisquareCdf(statistic, degreesOfFreedom));
  return { statistic, degreesOfFreedom, pValue, expected };
}
