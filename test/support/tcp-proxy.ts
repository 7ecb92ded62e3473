import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL, for cutting the database connection: cut() destroys every
 * connection through it at once (the application sees its queries fail mid-way, as when the network or the server
 * drops), while it is down() new connections are dropped as soon as they open, and silence() keeps every connection
 * open but passes nothing on (a server that hangs, or a network that drops packets without a reset).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private silent = false;
  /** Connections cut so far (each one the application had open). */
  cutConnections = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.refusing) return void client.destroy();
      const upstream = connect(targetPort, targetHost);
      proxy.track(client);
      proxy.track(upstream);
      // Either side failing or closing takes the other with it, as a broken network path would.
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        from.on('data', (chunk: Buffer) => {
          if (!proxy!.silent) to.write(chunk);
        });
        from.on('error', () => to.destroy());
        from.on('close', () => to.destroy());
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** A PostgreSQL connection string that goes through this proxy instead of straight to the server. */
  static route(connectionString: string, proxy: TcpProxy): string {
    const url = new URL(connectionString);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  }

  /** Destroys every open connection through the proxy. */
  cut(): void {
    this.cutConnections += this.sockets.size / 2;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Cuts, and drops new connections until up(). */
  down(): void {
    this.refusing = true;
    this.cut();
  }

  up(): void {
    this.refusing = false;
    this.silent = false;
  }

  /** Keeps the connections open and passes nothing on, either way, until up(). */
  silence(): void {
    this.silent = true;
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
