/**
 * A real HTTP server on 127.0.0.1 (random port) that plays a hostile token
 * endpoint: whatever the test's handler does (redirect, echo, flood, stall,
 * trickle), and a record of every request it received, so a test can assert
 * that a second origin never saw a token.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";

/** One request the server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the server does with a request; `body` is the request body, read in full. */
export type HostileHandler = (req: IncomingMessage, res: ServerResponse, body: string) => unknown;

/** A programmable endpoint on its own origin. */
export class HostileEndpoint {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Every request, in order. */
  readonly received: ReceivedRequest[] = [];
  /** The current behaviour; replace it between calls. */
  handler: HostileHandler;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();

  private constructor(server: Server, handler: HostileHandler) {
    this.#server = server;
    this.handler = handler;
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  /** Starts a server that answers with `handler` (default: 404). */
  static async start(handler: HostileHandler = (_req, res) => void res.writeHead(404).end()): Promise<HostileEndpoint> {
    let self: HostileEndpoint | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        self!.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
        Promise.resolve(self!.handler(req, res, body)).catch(() => res.destroy());
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    self = new HostileEndpoint(server, handler);
    return self;
  }

  /** The token endpoint URL on this origin. */
  get url(): string {
    return `${this.origin}/oauth/token`;
  }

  /** An interval the server runs (a trickle), cleared by {@linkcode HostileEndpoint.close}. */
  every(ms: number, fn: () => void): ReturnType<typeof setInterval> {
    const timer = setInterval(fn, ms);
    this.#timers.add(timer);
    return timer;
  }

  /** Stops the server, its timers and every open connection (stalled ones included). */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Answers with `status` and a JSON or text body. */
export function answer(res: ServerResponse, status: number, body: string, contentType = "application/json"): void {
  res.writeHead(status, { "Content-Type": contentType });
  res.end(body);
}

/** Answers 200 with `{"access_token":"BBB…"}` holding `bytes` of token, chunked (no length to refuse it by). */
export function streamHugeToken(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.write('{"access_token":"');
  const chunk = "B".repeat(64 * 1024);
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    res.end('"}');
  };
  pump();
}
