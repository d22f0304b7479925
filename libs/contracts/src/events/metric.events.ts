import { IsNumber, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { defineMessage } from '../registry';

export class MetricObservedData {
  /** The scaling group the value is about. */
  @IsString() @MaxLength(64) groupId!: string;
  /** The metric's name, as target policies name it (`cpu`, `requests_per_server`). */
  @IsString() @Matches(/^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$/) metric!: string;
  /** The value: a per-server average (target tracking compares it with the policy's target). */
  @IsNumber({ allowNaN: false, allowInfinity: false }) value!: number;
  /** When it was measured (RFC 3339); the event's time when absent. */
  @IsOptional() @IsString() observedAt?: string;
}
export const MetricObserved = defineMessage({
  type: 'nephele.metric.observed',
  kind: 'event',
  data: MetricObservedData,
  description: "A measured value of a group's metric; target-tracking policies scale on it.",
});
