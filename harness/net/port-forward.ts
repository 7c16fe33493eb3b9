import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface ForwardTarget {
  host: string;
  port: number;
}

export interface PortForwarderOptions {
  /** Where a new connection goes, asked per connection: a live migration changes it. */
  resolveTarget: () => Promise<ForwardTarget>;
  /** Concurrent connections kept; more are refused (a runaway client cannot exhaust the harness). */
  maxConnections?: number;
}

/**
 * A TCP forwarder that owns a host port on loopback (picked by the kernel, so safe at any
 * concurrency) and pipes each connection to the target of the moment. The listening address stays
 * the same for clients while the target moves from a migration's source QEMU to its destination.
 */
export class PortForwarder {
  private readonly sockets = new Set<Socket>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: PortForwarderOptions,
  ) {}

  static async open(options: PortForwarderOptions): Promise<PortForwarder> {
    const server = createServer({ noDelay: true });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    const forwarder = new PortForwarder(server, port, options);
    server.on('connection', (client) => forwarder.accept(client));
    return forwarder;
  }

  /** Connections open right now (client side). */
  get connections(): number {
    return [...this.sockets].filter((s) => !s.destroyed).length;
  }

  /** Stop listening and drop every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.closed || this.sockets.size >= (this.options.maxConnections ?? 256)) {
      client.destroy();
      return;
    }
    this.track(client);
    client.pause();
    client.on('error', () => undefined);
    this.options.resolveTarget().then(
      (target) => {
        if (client.destroyed) return;
        const upstream = createConnection({ host: target.host, port: target.port, noDelay: true });
        this.track(upstream);
        // A reset travels as a reset: through slirp, the guest refusing a port shows only as the
        // host socket being reset, and a FIN in its place would read as a clean answer.
        upstream.on('error', () => client.resetAndDestroy());
        client.on('error', () => upstream.resetAndDestroy());
        // Half-closes travel both ways (a client's FIN reaches the guest application).
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.resume();
      },
      () => client.destroy(),
    );
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
