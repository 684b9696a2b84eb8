import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import type { Readable } from 'node:stream';

/**
 * The CLI's client of a MedGrid server: GraphQL and DICOMweb over mutual TLS with a PKCS#12 the CA issued, as any
 * third-party client would use the API. Failures that end a command come back as CliRefusal, one line each.
 */

export class CliRefusal extends Error {}

export interface ApiClientOptions {
  url: string;
  pfx: Buffer;
  passphrase: string;
  ca?: string;
  maxSockets?: number;
}

/** Options every networked command takes, and how they are spelled in its usage. */
export const CLIENT_ARGS = {
  url: { type: 'string' },
  cert: { type: 'string' },
  'password-file': { type: 'string' },
  ca: { type: 'string' },
} as const;
export const CLIENT_USAGE =
  '--url https://HOST:PORT --cert CLIENT.p12 [--password-file FILE] [--ca CHAIN.pem]\n' +
  '  The PKCS#12 password comes from --password-file or MEDGRID_P12_PASSWORD.';

export async function clientOptionsFrom(
  values: { url?: string; cert?: string; 'password-file'?: string; ca?: string },
  env: NodeJS.ProcessEnv,
): Promise<ApiClientOptions | null> {
  if (!values.url || !values.cert) return null;
  return {
    url: values.url,
    pfx: await readFile(values.cert),
    passphrase: values['password-file']
      ? (await readFile(values['password-file'], 'utf8')).trim()
      : (env.MEDGRID_P12_PASSWORD ?? ''),
    ...(values.ca ? { ca: await readFile(values.ca, 'utf8') } : {}),
  };
}

/** A one-line explanation of a connection that failed before any HTTP answer. */
export function connectionProblem(err: NodeJS.ErrnoException): CliRefusal {
  const code = err.code ?? '';
  if (code === 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE' || /mac verify/i.test(err.message))
    return new CliRefusal('the PKCS#12 password is wrong');
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code))
    return new CliRefusal(`the server's certificate is not trusted (${code}); pass its CA chain with --ca`);
  if (['EPIPE', 'ECONNRESET'].includes(code) || code.startsWith('ERR_SSL'))
    return new CliRefusal(
      `the server closed the TLS connection (${code}): it does not accept this client certificate`,
    );
  return new CliRefusal(`cannot reach the server: ${code || err.message}`);
}

export interface HttpAnswer {
  status: number;
  text: string;
}

export class ApiClient {
  private readonly agent: Agent;

  constructor(private readonly opts: ApiClientOptions) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: opts.maxSockets ?? 4,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      ...(opts.ca ? { ca: opts.ca } : {}),
    });
  }

  /** POSTs `head`, then `body` streamed, then `tail`. */
  post(
    path: string,
    headers: Record<string, string | number>,
    head: Buffer,
    body?: Readable,
    tail?: Buffer,
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      try {
        const url = new URL(path, this.opts.url.endsWith('/') ? this.opts.url : `${this.opts.url}/`);
        const req = request(url, { method: 'POST', agent: this.agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(connectionProblem(e)));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
        });
        req.on('error', (e) => reject(connectionProblem(e)));
        if (!body) {
          req.end(tail ? Buffer.concat([head, tail]) : head);
          return;
        }
        req.write(head);
        body.on('error', (e) => req.destroy(e));
        body.on('end', () => req.end(tail));
        body.pipe(req, { end: false });
      } catch (e) {
        // A PKCS#12 that does not open throws while the TLS context is made, before any connection.
        reject(connectionProblem(e as NodeJS.ErrnoException));
      }
    });
  }

  /** A GraphQL call; a GraphQL error ends the command with its message. */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const payload = Buffer.from(JSON.stringify({ query, variables }));
    const r = await this.post(
      'graphql',
      { 'Content-Type': 'application/json', 'Content-Length': payload.length },
      payload,
    );
    let parsed: { data?: T | null; errors?: { message?: string }[] } = {};
    try {
      parsed = JSON.parse(r.text);
    } catch {
      // Not GraphQL: reported below with the HTTP status.
    }
    if (parsed.errors?.length || !parsed.data)
      throw new CliRefusal(`the server refused: ${parsed.errors?.[0]?.message ?? `HTTP ${r.status}`}`);
    return parsed.data;
  }

  /** Who the server takes us for; the first call of every command, so a refused certificate stops it at once. */
  async whoAmI(): Promise<string> {
    const { me } = await this.graphql<{ me: { name: string } | null }>('{ me { name } }');
    if (!me) throw new CliRefusal('the server does not know this certificate');
    return me.name;
  }

  close(): void {
    this.agent.destroy();
  }
}
