import { Module } from '@nestjs/common';
import { AuditRecorder } from './audit.recorder';

/** Audit events of API changes, written in the change's transaction. */
@Module({ providers: [AuditRecorder], exports: [AuditRecorder] })
export class AuditModule {}
