import { serve, type ServerType } from '@hono/node-server';
import { isIP } from 'node:net';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { AppError } from '../../errors.ts';
import type { GatewayEnv } from '../shared/gateway-env.ts';

export type GatewayServer = {
  url: string;
  port: number;
  dispose: () => Promise<void>;
};

export type GatewayListenOptions = {
  host: string;
  port: number;
  allowNonLoopback: boolean;
  logger: Logger;
};

/** Loopback names and addresses; anything else is reachable from the network. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * Listens on `host:port`. Binding a non-loopback address is refused unless asked for
 * explicitly, and then warned about: the API can start agents and read the audit trail.
 */
export async function listenGateway(
  app: Hono<GatewayEnv>,
  options: GatewayListenOptions,
): Promise<GatewayServer> {
  if (!isLoopback(options.host)) {
    if (!options.allowNonLoopback) {
      throw new AppError(
        'INVALID_INPUT',
        `refusing to bind ${options.host}: it is not a loopback address and would expose the API to the network. ` +
          'Pass --allow-non-loopback if that is really what you want.',
        { fields: [{ path: 'gateway.host', message: 'not a loopback address' }] },
      );
    }
    options.logger.warn(
      { host: options.host },
      'the gateway is bound to a non-loopback address: reachable from the network',
    );
  }
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => {
      resolve(s);
    });
    s.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('gateway has no TCP address');
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    dispose: () =>
      new Promise<void>((resolve, reject) => {
        // Open SSE streams would hold `close` forever: end them too.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}
