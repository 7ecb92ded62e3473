import { Logger, type OnApplicationBootstrap, type Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

const FORM = 'application/x-www-form-urlencoded';

/** The members of a Fastify instance the check uses (Fastify is an optional peer: no import of its types). */
interface FastifyLike {
  addHook(name: 'onReady', hook: () => Promise<void>): unknown;
  hasContentTypeParser(contentType: string): boolean;
}

/**
 * The pages post their forms as `application/x-www-form-urlencoded`. Nest's Fastify adapter registers a parser for
 * them, unless the app was created with `bodyParser: false`; a Fastify app without one answers every form with 415
 * before the pages see it, so this says so once, at startup, with the fix.
 */
export function formParserCheck(pages: string, mountedAt: string): Provider {
  const logger = new Logger(pages);
  class FormParserCheck implements OnApplicationBootstrap {
    constructor(private readonly host: HttpAdapterHost) {}

    onApplicationBootstrap(): void {
      const adapter = this.host?.httpAdapter; // undefined in an application context without HTTP
      if (adapter?.getType() !== 'fastify') return;
      const fastify = adapter.getInstance<FastifyLike>();
      const check = async (): Promise<void> => {
        if (fastify.hasContentTypeParser(FORM)) return;
        logger.warn(
          `The forms of ${mountedAt} are ${FORM}, which this Fastify app does not parse (created with ` +
            `bodyParser: false?): every form would be refused with 415. Leave Nest's body parser on, or register ` +
            `a parser for ${FORM} such as @fastify/formbody.`,
        );
      };
      // Once every plugin is loaded (the app may register a parser after the modules start); at once if
      // the instance is ready already (Fastify then refuses new hooks).
      try {
        fastify.addHook('onReady', check);
      } catch {
        void check();
      }
    }
  }
  return {
    provide: FormParserCheck,
    useFactory: (host: HttpAdapterHost) => new FormParserCheck(host),
    inject: [HttpAdapterHost],
  };
}
