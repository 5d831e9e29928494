import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP relay on 127.0.0.1 that a test can cut, freeze and restore, to play a database outage. */
export interface TcpProxy {
  /** The port it listens on (the same after `restore`). */
  readonly port: number;
  /** Destroys every relayed connection and stops accepting: connecting is refused at once. */
  cut(): Promise<void>;
  /**
   * Holds every byte in both directions and accepts new connections without answering them: a
   * network partition, where nothing is refused and nothing arrives.
   */
  freeze(): void;
  /** Delivers what was held, relays again and accepts connections again. */
  restore(): Promise<void>;
  /** Cuts and releases everything. Idempotent. */
  close(): Promise<void>;
}

/** Starts relaying a free local port to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let held: (() => void)[] = [];
  let server: Server | undefined;
  let port = 0;
  let isFrozen = false;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A relayed connection that fails is closed on both sides, like a network failure.
    socket.on("error", () => socket.destroy());
  };

  const relay = (from: Socket, to: Socket) => {
    from.on("data", (chunk: Buffer) => {
      if (!isFrozen) {
        to.write(chunk);
        return;
      }
      // Kept in order: the socket pauses until `restore`, so no later chunk overtakes this one.
      held.push(() => to.write(chunk));
      from.pause();
    });
    from.on("close", () => to.destroy());
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = connect(targetPort, "127.0.0.1");
        track(client);
        track(upstream);
        relay(client, upstream);
        relay(upstream, client);
      });
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", () => {
        const address = listening.address();
        if (typeof address === "object" && address !== null) port = address.port;
        server = listening;
        resolve();
      });
    });

  const cut = () =>
    new Promise<void>((resolve) => {
      isFrozen = false;
      held = [];
      for (const socket of sockets) socket.destroy();
      const closing = server;
      server = undefined;
      if (closing === undefined) resolve();
      else closing.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    freeze() {
      isFrozen = true;
    },
    async restore() {
      isFrozen = false;
      const release = held;
      held = [];
      for (const write of release) write();
      for (const socket of sockets) socket.resume();
      if (server === undefined) await listen();
    },
    close: cut,
  };
}
