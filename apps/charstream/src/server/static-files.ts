// Static files of the web page from one folder. The URL path is decoded once, must stay a plain
// relative path (no "..", no NUL, no backslash) and must resolve inside the folder; anything else
// is refused before the file system is touched.
import { createReadStream, promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** The file a URL path names inside `root`, or an HTTP status explaining why there is none. */
export function resolveStatic(root: string, urlPath: string): { file: string } | { status: 400 | 403 } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400 };
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return { status: 403 };
  const base = resolve(root);
  const file = resolve(base, ...(parts.length ? parts : ['index.html']));
  // Belt and braces: whatever the decoding did, the result must be inside the folder.
  if (file !== base && !file.startsWith(base + sep)) return { status: 403 };
  return { file };
}

/** Sends the file (GET) or only its headers (HEAD); false when it does not exist. */
export async function sendStatic(
  res: ServerResponse,
  file: string,
  head: boolean,
  headers: Record<string, string>,
): Promise<boolean> {
  let stat: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stat = await fs.stat(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  res.writeHead(200, {
    ...headers,
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': stat.size,
    'Cache-Control': 'no-cache',
  });
  if (head) res.end();
  else
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  return true;
}
