// A loopback port that nothing listens on, for a broker or server a benchmark or test starts
// as a separate process (which cannot report back a port 0 bound for it).
import { createServer, type AddressInfo } from 'node:net';

/** Binds port 0 on 127.0.0.1, reads the port the system chose, and releases it. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
