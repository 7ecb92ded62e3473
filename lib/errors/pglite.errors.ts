import { ConvoyError } from './convoy.error.js';

/** Who holds a PGlite data folder's lock. */
export interface DataDirHolder {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO 8601). */
  since: string;
}

/**
 * Another process (or another storage in this process) has the PGlite data folder open. Two PostgreSQL instances on
 * one folder would each write their own version of the files, so the second one is refused before it opens anything.
 */
export class DataDirInUseError extends ConvoyError {
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirHolder,
    /** The holder is this very process: a storage on the folder is still open. */
    readonly heldByThisProcess = false,
  ) {
    super(
      heldByThisProcess
        ? `The PGlite data folder ${dataDir} is already open in this process (pid ${holder.pid}, since ${holder.since}): ` +
            'close that storage before opening the folder again, or share the one storage'
        : `The PGlite data folder ${dataDir} is in use by process ${holder.pid} on host ${holder.host} (since ${holder.since}), ` +
            'and a folder can be open in one process at a time. Stop that process (an `npm run start:dev` still running in ' +
            'another terminal?), give each process its own dataDir, or use PostgreSQL (nestjs-convoy/postgres) to run several instances on one storage',
    );
  }
}
