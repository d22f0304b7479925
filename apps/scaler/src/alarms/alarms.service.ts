import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { markProcessed } from '@nephele/bus';
import { AlarmTriggeredData, CloudEvent } from '@nephele/contracts';
import { matchAlarm } from '@nephele/scaling';
import { CLOCK, Clock } from '@nephele/service-kit';
import { SCALER_SCHEMA } from '../data-source';
import { toPlannerPolicy } from '../state/group.types';
import { PoliciesRepository } from '../state/policies.repository';
import { GroupsRepository } from '../state/groups.repository';
import { PolicyExecutorService, PolicyOutcome } from '../policies/policy-executor.service';

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  fingerprint?: string;
  generatorURL?: string;
}

export interface AlarmExecution {
  policyId: string;
  groupId?: string;
  executed: boolean;
  reason: string;
}

/** Matches alarms to alarm policies by labels and executes them (once per alarm). */
@Injectable()
export class AlarmsService {
  constructor(
    private readonly repo: GroupsRepository,
    private readonly policies: PoliciesRepository,
    private readonly executor: PolicyExecutorService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Executes every alarm policy whose criteria the labels satisfy, in one transaction with the
   * dedupe record (`dedupe` inserts it and returns false when the alarm was seen already).
   * The executor locks groups and policies in id order, so concurrent alarms cannot deadlock.
   */
  private async run(
    labels: Record<string, string>,
    trigger: string,
    dedupe: (tx: EntityManager) => Promise<boolean>,
  ): Promise<AlarmExecution[] | undefined> {
    const policies = (await this.repo.alarmPolicies()).filter((p) => matchAlarm(toPlannerPolicy(p), labels));
    const outcomes: PolicyOutcome[] = [];
    const fresh = await this.repo.transaction(async (tx) => {
      if (!(await dedupe(tx))) return false;
      const now = this.clock.now();
      outcomes.push(
        ...(await this.executor.executeMany(
          tx,
          policies.map((p) => ({ policyId: p.id, groupId: p.group_id, trigger })),
          now,
        )),
      );
      return true;
    });
    if (!fresh) return undefined;
    for (const o of outcomes) this.executor.after(o);
    return outcomes.map((o) => ({
      policyId: o.policyId,
      groupId: o.groupId,
      executed: o.ok,
      reason: o.reason,
    }));
  }

  /** A `nephele.alarm.triggered` event (idempotent on the event id). */
  async fromEvent(e: CloudEvent<AlarmTriggeredData>): Promise<AlarmExecution[] | undefined> {
    const d = e.data!;
    if (d.status !== undefined && !/^(firing|alarm|triggered)$/i.test(d.status)) return [];
    return this.run(d.labels, `alarm:${d.alarmId ?? e.id}`, (tx) =>
      markProcessed(tx, SCALER_SCHEMA, 'alarms', e),
    );
  }

  /** One firing Alertmanager alert, deduplicated by fingerprint and start time. */
  async fromAlertmanager(a: AlertmanagerAlert): Promise<AlarmExecution[] | undefined> {
    const fingerprint =
      a.fingerprint ??
      createHash('sha256')
        .update(JSON.stringify(Object.entries(a.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))))
        .digest('hex')
        .slice(0, 16);
    const key = `alertmanager:${fingerprint}:${new Date(a.startsAt).toISOString()}`;
    return this.run(a.labels, `alertmanager:${fingerprint}`, (tx) =>
      this.policies.recordAlarmReceipt(tx, key),
    );
  }
}
