import { SealedSecret } from '@nephele/crypto';

/** How the poller authenticates to a feed. Write-only: never returned, never logged. */
export type FeedCredentials =
  { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export const START_AT = ['oldest', 'newest'] as const;
export type StartAt = (typeof START_AT)[number];

/** A feed row as stored. */
export interface FeedRow {
  id: string;
  project: string | null;
  name: string;
  url: string;
  intervalMs: number;
  pageLimit: number;
  enabled: boolean;
  startAt: StartAt;
  credentials: SealedSecret | null;
  providerAccountId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Poll state of a feed (the `cursors` table). */
export interface CursorRow {
  marker: string | null;
  nextPollAt: Date;
  failures: number;
  lastError: string | null;
  lastPolledAt: Date | null;
  lastSuccessAt: Date | null;
  entriesPublished: number;
}

/** A feed as the API shows it: credentials reduced to whether there are any. */
export interface FeedView {
  id: string;
  project: string | null;
  name: string;
  url: string;
  intervalMs: number;
  pageLimit: number;
  enabled: boolean;
  startAt: StartAt;
  providerAccountId: string | null;
  hasCredentials: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  status: {
    /** Id of the last entry published (the AtomHopper marker polling resumes from). */
    cursor: string | null;
    failures: number;
    lastError: string | null;
    nextPollAt: string;
    lastPolledAt: string | null;
    lastSuccessAt: string | null;
    entriesPublished: number;
  };
}
