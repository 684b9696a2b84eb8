/** Gateway settings from the environment; see docs/configuration.md. */
export interface GatewayConfig {
  host: string;
  port: number;
  aeTitle: string;
  /** Calling AE titles allowed to associate; empty means any. */
  allowedCallingAeTitles: string[];
  logLevel: string;
}

export class GatewayConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const rawPort = env.MEDGRID_GATEWAY_PORT ?? '11112';
  if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65535) {
    throw new GatewayConfigError(`MEDGRID_GATEWAY_PORT must be a port number, got "${rawPort}"`);
  }
  const aeTitle = (env.MEDGRID_GATEWAY_AE_TITLE ?? 'MEDGRID').trim();
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(aeTitle)) {
    throw new GatewayConfigError(
      'MEDGRID_GATEWAY_AE_TITLE must be 1-16 printable characters without backslash',
    );
  }
  const allowed = (env.MEDGRID_GATEWAY_ALLOWED_AE_TITLES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    host: env.MEDGRID_GATEWAY_HOST || '127.0.0.1',
    port: Number(rawPort),
    aeTitle,
    allowedCallingAeTitles: allowed,
    logLevel: env.MEDGRID_LOG_LEVEL || 'info',
  };
}
