// A node process runs until the launch system (or a user's Ctrl-C) asks it to stop.

export type TerminationSignal = 'SIGINT' | 'SIGTERM';

/** Resolves with the first SIGINT or SIGTERM this process receives. */
export function terminationSignal(): Promise<TerminationSignal> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
