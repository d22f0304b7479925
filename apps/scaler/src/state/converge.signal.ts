import { Injectable } from '@nestjs/common';

/**
 * Wakes this replica's converger after a commit that asked for a pass (the `converge_after`
 * column is the durable request; this only saves the poll delay). Other replicas find the
 * request by polling.
 */
@Injectable()
export class ConvergeSignal {
  private readonly listeners: (() => void)[] = [];

  onNudge(listener: () => void): void {
    this.listeners.push(listener);
  }

  nudge(): void {
    for (const l of this.listeners) l();
  }
}
