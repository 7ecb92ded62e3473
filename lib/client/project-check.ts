import { Logger } from '@nestjs/common';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { ConvoyHttpError, ConvoyNetworkError, ConvoyTimeoutError } from '../errors/client.errors.js';
import { backoffDelay } from '../utils/backoff.js';
import type { ConvoyClient } from './convoy.client.js';
import type { ConvoyProject } from './convoy.types.js';

/**
 * Asks Convoy which project the credentials reach, and compares it with the configured one. With a project API key,
 * Convoy ignores the project id in every path and uses the key's project (a client built with another projectId
 * works, on the wrong project, without an error), so GET /v1/projects/{projectId} answers with the key's project:
 * its `uid` must be the configured id. Throws ConvoyConfigurationError when the settings are wrong for sure; any
 * other error (network, timeout, 5xx, 429) is rethrown as is: Convoy may just be unreachable for now.
 */
export async function verifyProject(client: ConvoyClient, timeoutMs: number): Promise<ConvoyProject> {
  const configured = client.projectId ?? '';
  let project: ConvoyProject;
  try {
    project = await client.project({ timeoutMs, retry: false });
  } catch (error) {
    if (!(error instanceof ConvoyHttpError) || error.retryable) throw error;
    if (error.status === 401 || error.status === 403) {
      throw new ConvoyConfigurationError(
        'apiKey',
        `was refused by Convoy (${error.status} "${error.convoyMessage}")`,
        'pass a valid API key of the project (Convoy dashboard: Project Settings > Secrets), or the right username and password',
      );
    }
    if (error.status === 400 && /project not found/i.test(error.convoyMessage)) {
      throw new ConvoyConfigurationError(
        'projectId',
        `is "${configured}", which Convoy does not know (400 "${error.convoyMessage}")`,
        'pass the id shown in the Convoy dashboard (Project Settings)',
      );
    }
    if (error.status === 404) {
      throw new ConvoyConfigurationError(
        'baseUrl',
        `does not lead to Convoy's API: GET ${error.path} answered 404`,
        'pass the API base, e.g. "http://localhost:5005/api" (with /api, without /v1)',
      );
    }
    throw error;
  }
  if (project.uid !== configured) {
    throw new ConvoyConfigurationError(
      'projectId',
      `is "${configured}", but the API key belongs to project "${project.uid}" ("${project.name}"); Convoy would use that project for every call`,
      `pass projectId "${project.uid}", or the API key of project "${configured}"`,
    );
  }
  if (project.type !== 'outgoing') {
    throw new ConvoyConfigurationError(
      'projectId',
      `is an ${project.type} project; webhooks are sent from outgoing projects`,
      'pass the id of an outgoing project',
    );
  }
  return project;
}

/** Whether an error means "Convoy did not answer properly, try later" rather than "the settings are wrong". */
function isTransient(error: unknown): boolean {
  return (
    error instanceof ConvoyNetworkError ||
    error instanceof ConvoyTimeoutError ||
    (error instanceof ConvoyHttpError && error.retryable)
  );
}

/**
 * The module's startup check: once, before the app starts. Wrong settings stop startup (ConvoyConfigurationError);
 * an unreachable Convoy only logs a warning, and the check goes on in the background (1 s, doubling to 5 min)
 * until Convoy answers, then logs the outcome; `stop()` ends it (shutdown).
 */
export class StartupProjectCheck {
  private readonly logger = new Logger('ConvoyModule');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: ConvoyClient,
    private readonly timeoutMs: number,
  ) {}

  async run(): Promise<void> {
    try {
      await this.check();
    } catch (error) {
      if (!isTransient(error)) throw error;
      this.logger.warn(
        `Could not check that the API key belongs to project ${this.client.projectId}: ${(error as Error).message}. The app starts anyway; checking again in the background.`,
      );
      this.schedule(1);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async check(): Promise<void> {
    const project = await verifyProject(this.client, this.timeoutMs);
    this.logger.log(`Convoy project ${project.uid} ("${project.name}") confirmed for this API key.`);
  }

  private schedule(retry: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.check().catch((error: unknown) => {
          if (this.stopped) return;
          if (isTransient(error)) return this.schedule(retry + 1);
          // Too late to stop startup: say it loudly; every publish goes to the wrong place or fails until fixed.
          this.logger.error(`${(error as Error).message}`);
        });
      },
      backoffDelay(retry, { baseDelayMs: 1_000, maxDelayMs: 300_000 }),
    );
    this.timer.unref();
  }
}
