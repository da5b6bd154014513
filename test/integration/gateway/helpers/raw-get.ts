import { request } from 'node:http';

/** A GET with exactly these headers, `Host` included (fetch would set Host itself). */
export function rawGet(
  base: string,
  pathname: string,
  headers: Record<string, string>,
): Promise<{ status: number }> {
  const url = new URL(pathname, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers,
        setHost: headers.host === undefined,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0 });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
