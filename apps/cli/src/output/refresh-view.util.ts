/** An instance refresh as `GET /v1/groups/{id}/refresh` shows it. */
export interface RefreshView {
  id: string;
  groupId: string;
  status: string;
  spec: { minHealthyPercentage: number; batchSize: number; warmup: number; launchBeforeRetire?: boolean };
  toVersion: number;
  fromVersion: number;
  total: number;
  replaced: number;
  percentComplete: number;
  batches: number;
  batch: { startedAt: string; retire: string[]; launch: number } | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** `[########------------]`: `done` of `total` as a bar `width` characters wide. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total <= 0 ? width : Math.min(width, Math.max(0, Math.floor((done * width) / total)));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** One line of progress: the bar, the figures, the status, the batch and why it waits. */
export function refreshLine(r: RefreshView): string {
  const batch = r.batch ? `, batch ${r.batches} replacing ${r.batch.retire.length}` : '';
  const why = r.reason ? ` — ${r.reason}` : '';
  return `${progressBar(r.replaced, r.total)} ${r.replaced}/${r.total} (${r.percentComplete}%) ${r.status} → v${r.toVersion}${batch}${why}`;
}

/** Whether a watched refresh has ended, and the exit code: 0 succeeded, 1 anything else that ended. */
export function refreshVerdict(
  r: RefreshView,
): { done: false } | { done: true; exitCode: number; message: string } {
  switch (r.status) {
    case 'succeeded':
      return {
        done: true,
        exitCode: 0,
        message: `refresh succeeded: ${r.total} server(s) at launch config v${r.toVersion}`,
      };
    case 'rolled-back':
    case 'failed':
    case 'cancelled':
      return { done: true, exitCode: 1, message: `refresh ${r.status}${r.reason ? `: ${r.reason}` : ''}` };
    default:
      return { done: false };
  }
}
