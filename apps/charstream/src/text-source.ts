// Text as an Observable of chunks that arrive over time: a string replayed (optionally looped)
// or a byte stream (stdin, a file). One chunk per macrotask, so training, timers and signals
// interleave; a readable is paused while its data is being handed out (flow control to the pipe).

import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';

/** Options of textChunks(). */
export interface TextChunksOptions {
  /** Characters per emitted chunk. Default 256. */
  chunkChars?: number;
  /** Start again from the beginning at the end (an endless stream). Default false. */
  loop?: boolean;
}

/** Replays `text` in chunks, one per macrotask; completes at the end unless looping. */
export function textChunks(text: string, options: TextChunksOptions = {}): Observable<string> {
  const chunkChars = options.chunkChars ?? 256;
  if (text.length === 0) throw new RangeError('textChunks: text is empty, expected at least one character');
  return new Observable<string>((sub) => {
    let at = 0;
    let timer: ReturnType<typeof setImmediate> | null = null;
    const emit = () => {
      timer = null;
      if (at >= text.length) {
        if (!options.loop) return sub.complete();
        at = 0;
      }
      sub.next(text.slice(at, at + chunkChars));
      at += chunkChars;
      if (!sub.closed) timer = setImmediate(emit);
    };
    timer = setImmediate(emit);
    return () => {
      if (timer !== null) clearImmediate(timer);
    };
  });
}

/**
 * Text from a byte stream as it arrives, decoded as UTF-8 (a character split across reads is
 * kept whole) and handed out in chunks of at most `chunkChars`, one per macrotask.
 */
export function readableText(readable: NodeJS.ReadableStream, chunkChars = 256): Observable<string> {
  return new Observable<string>((sub) => {
    const decoder = new StringDecoder('utf8');
    let queue = '';
    let ended = false;
    let timer: ReturnType<typeof setImmediate> | null = null;
    const pump = () => {
      timer = null;
      if (sub.closed) return;
      if (queue.length > 0) {
        // Cut at a code-point boundary: never between the halves of a surrogate pair.
        let n = Math.min(chunkChars, queue.length);
        const code = queue.charCodeAt(n - 1);
        if (n < queue.length && code >= 0xd800 && code <= 0xdbff) n++;
        sub.next(queue.slice(0, n));
        queue = queue.slice(n);
      }
      if (queue.length > 0) timer = setImmediate(pump);
      else if (ended) sub.complete();
      else readable.resume();
    };
    const onData = (data: Buffer | string) => {
      queue += typeof data === 'string' ? data : decoder.write(data);
      readable.pause();
      if (timer === null) timer = setImmediate(pump);
    };
    const onEnd = () => {
      ended = true;
      queue += decoder.end();
      if (timer === null) timer = setImmediate(pump);
    };
    const onError = (e: Error) => sub.error(e);
    readable.on('data', onData);
    readable.once('end', onEnd);
    readable.once('error', onError);
    readable.resume();
    return () => {
      if (timer !== null) clearImmediate(timer);
      readable.off('data', onData);
      readable.off('end', onEnd);
      readable.off('error', onError);
      readable.pause();
    };
  });
}
