/**
 * `npx nestjs-convoy event-types sync --catalog <module> [--export <name>] [--dry-run]`: makes the Convoy project's
 * event types match the catalog the module exports (syncEventTypes()), with the app's CONVOY_* settings, and prints
 * what changed. `--dry-run` only reads, and prints what would change.
 */
import { ConvoyClient } from '../client/convoy.client.js';
import type { ConvoyClientOptions } from '../client/convoy-client.options.js';
import { describeSync, syncEventTypes } from '../catalog/event-type-sync.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { DEFAULT_BASE_URL } from '../options/option-tables.js';
import type { DoctorEnv } from './doctor.js';
import { loadCatalog } from './openapi.js';

export interface EventTypesCommand {
  catalog?: string;
  export?: string;
  dryRun?: boolean;
}

/** Resolves with the exit code: 0 synced (or dry run done), 1 Convoy refused or failed, 2 a usage or settings error. */
export async function eventTypesSync(
  command: EventTypesCommand,
  env: DoctorEnv,
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<number> {
  if (!command.catalog) {
    printError('Pass --catalog <module>: the compiled file that exports your defineWebhookEvents() catalog.');
    return 2;
  }
  const catalog = await loadCatalog(command.catalog, command.export);
  if (typeof catalog === 'string') {
    printError(catalog);
    return 2;
  }
  let client: ConvoyClient;
  try {
    client = new ConvoyClient({
      baseUrl: env.CONVOY_URL || DEFAULT_BASE_URL,
      projectId: env.CONVOY_PROJECT_ID || undefined,
      ...(env.CONVOY_API_KEY
        ? { apiKey: env.CONVOY_API_KEY }
        : { username: env.CONVOY_USERNAME || undefined, password: env.CONVOY_PASSWORD || undefined }),
    } as ConvoyClientOptions);
  } catch (error) {
    const message =
      error instanceof ConvoyConfigurationError ? `${error.option} ${error.problem}` : (error as Error).message;
    printError(
      `Convoy settings: ${message} (set CONVOY_URL, CONVOY_API_KEY or CONVOY_USERNAME/CONVOY_PASSWORD, and CONVOY_PROJECT_ID)`,
    );
    return 2;
  }
  try {
    const report = await syncEventTypes(client, catalog, { dryRun: command.dryRun === true });
    for (const line of describeSync(report, command.dryRun === true)) print(line);
    return 0;
  } catch (error) {
    printError((error as Error).message);
    return error instanceof ConvoyConfigurationError ? 2 : 1;
  } finally {
    await client.close();
  }
}
