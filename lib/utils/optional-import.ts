import { ConvoyConfigurationError } from '../errors/configuration.error.js';

/**
 * Loads an optional peer dependency (a database driver) only when it is used, so that the core never loads one.
 * `load` is the caller's own `() => import('pkg')`, keeping the import statically visible in the subpath that needs it.
 * A missing package becomes a ConvoyConfigurationError saying what to install; other failures pass through.
 */
export async function importOptional<T>(load: () => Promise<T>, packageName: string, option: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    const message = String((error as Error)?.message ?? '');
    if (
      (code === 'ERR_MODULE_NOT_FOUND' ||
        code === 'MODULE_NOT_FOUND' ||
        /cannot find (module|package)/i.test(message)) &&
      message.includes(packageName)
    ) {
      throw new ConvoyConfigurationError(
        option,
        `needs the optional package "${packageName}", which is not installed`,
        `npm install ${packageName}`,
      );
    }
    throw error;
  }
}
