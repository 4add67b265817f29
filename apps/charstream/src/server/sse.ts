// Server-sent events on a Node response: the headers, one event per write, and a keep-alive
// comment so proxies do not time out a quiet stream.
import type { ServerResponse } from 'node:http';

/** Starts an event stream on `res` (status 200, no caching, no buffering by proxies). */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write(': charstream\n\n');
}

/** Writes one event whose data is `data` as JSON (one line, so no data-line splitting needed). */
export function sendSse(res: ServerResponse, event: string, data: unknown): boolean {
  return res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** A comment line every `ms` until the response closes. */
export function keepAlive(res: ServerResponse, ms = 15_000): void {
  const timer = setInterval(() => res.write(': keep-alive\n\n'), ms);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
