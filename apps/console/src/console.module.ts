import { DynamicModule, Module } from '@nestjs/common';
import { ConsoleController } from './console/console.controller';
import { CONSOLE_OPTIONS, ConsoleOptions } from './console/console.options';

/**
 * The web console: the page at `/` and its files under `/console/`. Imported as is (the all-in-one),
 * it calls the API on its own origin; `forRoot({apiUrl})` points it at a gateway elsewhere.
 */
@Module({ controllers: [ConsoleController] })
export class ConsoleModule {
  static forRoot(options: ConsoleOptions): DynamicModule {
    return { module: ConsoleModule, providers: [{ provide: CONSOLE_OPTIONS, useValue: options }] };
  }
}
