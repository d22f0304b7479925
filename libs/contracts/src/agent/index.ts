export * from './agent.constants';
export * from './agent.messages';
