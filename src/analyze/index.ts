/** src/analyze: snapshot → service views, findings and diffs. Pure (ARCHITECTURE.md). */
export {
  analyzeSnapshot,
  probabilityTolerance,
  distributionPValue,
  type Analysis,
} from './analyzeSnapshot.js';
export { chiSquareTest, type ChiSquareResult } from './chiSquare.js';
export type * from './view.js';
export {
  diffSnapshots,
  type SnapshotDiff,
  type SepRef,
  type SepChange,
  type ServiceChainsChange,
  type EndpointsChange,
  type PodRef,
} from './diff.js';
export { snapshotFromParsed, hostOfPrompt, requestTarget, type ParsedCapture } from './fromParsed.js';
export { formatAnalysisText, formatDiffText, formatFinding } from './formatText.js';
export {
  inventoryView,
  ipv4Range,
  type InventoryView,
  type InventoryOptions,
  type PodRow,
  type NodeRow,
  type PodIpRange,
  type PodMark,
  type PodServiceRef,
  type EndpointState,
} from './inventory.js';
