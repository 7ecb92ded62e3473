// One contestant (bench/support/contestants.ts) in a process of its own, as an application runs only one of them:
// its code is warmed up by its own rounds and shares no JIT state (undici's inline caches, for one) with the others.
// The parent times each round up to the receiver's count and reads this process's CPU time around it.
import { atFixedRate, clock, concurrently } from './measure.js';
import { serveCommands } from './child.js';
import { contestants } from './contestants.js';

const name = process.env.BENCH_CONTESTANT!;
const contestant = await contestants[name]!(process.env.BENCH_SINK_URL!);

serveCommands(
  {
    /** `events` sends, `callers` at a time; resolves once each send resolved. */
    burst: (events: number) => concurrently(events, contestant.callers, (i) => contestant.send(i)),
    /** Sends at a fixed rate, each carrying the moment it was sent. */
    paced: ({ rate, seconds }: { rate: number; seconds: number }) =>
      atFixedRate(rate, seconds, (i) => contestant.send(i, clock())),
    /** Without a sink: waits until everything published was handed over; how many were, so far. */
    handedOver: () => contestant.handedOver!(),
    /** This process's CPU time so far (user + system, all threads), µs. */
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    close: () => contestant.close(),
  },
  { name },
);
