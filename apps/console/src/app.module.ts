import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { ConsoleConfig } from './config/env';
import { ConsoleModule } from './console.module';

/** The console served on its own (distributed install): health, metrics and the page. */
@Module({})
export class ConsoleAppModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleAppModule,
      imports: [
        // No bus and no tokens of its own: the browser talks to the API directly with its token.
        CoreModule.forRoot({ service: 'console', logLevel: config.logLevel, remoteTokens: false }),
        ConsoleModule.forRoot({ apiUrl: config.apiUrl }),
      ],
    };
  }
}
