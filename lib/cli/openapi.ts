import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isWebhookEventCatalog, type WebhookEventCatalog } from '../catalog/webhook-events.js';
import { webhooksOpenApi } from '../catalog/webhooks-openapi.js';

export interface OpenApiCommand {
  catalog?: string;
  export?: string;
  title?: string;
  docVersion?: string;
  signature?: string;
  out?: string;
}

/**
 * `nestjs-convoy openapi --catalog <module>`: imports the application's compiled module that exports the catalog
 * (e.g. dist/webhooks.js; run it under a TypeScript loader for a .ts file), and writes the OpenAPI document.
 * Title and version default to the name and version of ./package.json. Returns the exit code.
 */
export async function openapi(command: OpenApiCommand, write: (text: string) => void): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`${message}\n`);
    return 2;
  };
  if (!command.catalog)
    return fail('Pass --catalog <module>: the compiled file that exports your defineWebhookEvents() catalog.');
  const loaded = await loadCatalog(command.catalog, command.export);
  if (typeof loaded === 'string') return fail(loaded);
  const catalog = loaded;
  const project = readProject();
  try {
    const document = webhooksOpenApi(catalog, {
      title: command.title ?? (project.name ? `${project.name} webhooks` : ''),
      version: command.docVersion ?? project.version ?? '',
      signature: command.signature as 'convoy' | 'standard' | undefined,
    });
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (command.out) writeFileSync(command.out, text);
    else write(text);
    return 0;
  } catch (error) {
    return fail(`${(error as Error).message} (options: --title, --doc-version, --signature convoy|standard)`);
  }
}

function readProject(): { name?: string; version?: string } {
  try {
    return JSON.parse(readFileSync('package.json', 'utf8')) as { name?: string; version?: string };
  } catch {
    return {};
  }
}

/**
 * The catalog a module exports: `exportName`, else its default export, else its only catalog. A string says what is
 * wrong (for stderr).
 */
export async function loadCatalog(path: string, exportName?: string): Promise<WebhookEventCatalog | string> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    return `Cannot import ${path}: ${(error as Error).message}`;
  }
  const found = Object.entries(exports).filter(([, value]) => isWebhookEventCatalog(value));
  const names = found.map(([name]) => name);
  const chosen = exportName ?? (names.includes('default') ? 'default' : names.length === 1 ? names[0] : undefined);
  const catalog = found.find(([name]) => name === chosen)?.[1] as WebhookEventCatalog | undefined;
  if (catalog) return catalog;
  return exportName
    ? `${path} exports no catalog named ${exportName} (catalogs: ${names.join(', ') || 'none'})`
    : names.length > 1
      ? `${path} exports several catalogs (${names.join(', ')}); pick one with --export <name>`
      : `${path} exports no catalog made by defineWebhookEvents()`;
}
