export * from './data-source.factory';
export * from './embedded-postgres';
export * from './advisory-lock';
export * from './leader-lock';
export * from './sql.util';
export * from './sql-repository';
