export * from './agent.constants';
export * from './agent.messages';
export * from './agent-identity';
export * from './service-spec.mapping';
