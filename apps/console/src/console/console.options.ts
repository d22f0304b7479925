/** How the console reaches the API. */
export interface ConsoleOptions {
  /** Base URL of the API gateway or ingress; '' (the default) = the page's own origin. */
  apiUrl: string;
}

export const CONSOLE_OPTIONS = Symbol('CONSOLE_OPTIONS');
