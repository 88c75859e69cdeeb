// Entry of every TypeScript worker thread (see ts-worker.ts): registers tsx in this thread,
// then imports the TypeScript module named by the first argument.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
