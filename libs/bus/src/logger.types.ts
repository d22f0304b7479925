/** The slice of a pino logger the infrastructure libraries use. */
export interface LoggerLike {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export const silentLogger: LoggerLike = { debug() {}, info() {}, warn() {}, error() {} };
