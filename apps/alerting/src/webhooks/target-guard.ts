import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export class WebhookTargetError extends Error {
  override readonly name = 'WebhookTargetError';
}

export const ALLOW_HINT = 'set alerting.allowPrivateWebhookTargets to allow private targets';

/** The error of a delivery refused as it connects: the address, the name that led there, how to allow it. */
export const connectRefusal = (host: string, address: string, refusal: string): string =>
  `refused at connect time: ${refusal}${host === address ? '' : ` (${host} resolved to it)`}; ${ALLOW_HINT}`;

/**
 * Why an address must not be called, or null when it is a public unicast one.
 * Loopback, private, link-local (cloud metadata at 169.254.169.254), unique-local,
 * carrier-grade NAT, multicast and reserved ranges are all refused; IPv4-mapped
 * IPv6 is judged as the IPv4 address it carries.
 */
export const refusalOf = (address: string): string | null => {
  if (!ipaddr.isValid(address)) return `'${address}' is not an IP address`;
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? null : `${address} is a ${range} address`;
};

/** Checks a URL before it is stored: http(s), and every address its host resolves to is public. */
export const assertAllowedTarget = async (url: string, allowPrivate: boolean): Promise<void> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookTargetError(`webhook URL '${url}' is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookTargetError(`webhook URL must be http or https, got ${parsed.protocol}`);
  }
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses =
    isIP(host) !== 0
      ? [host]
      : await new Promise<string[]>((resolve, reject) =>
          dnsLookup(host, { all: true }, (error, found) =>
            error
              ? reject(
                  new WebhookTargetError(
                    `webhook host '${host}' does not resolve: ${error.code ?? error.message}`,
                  ),
                )
              : resolve(found.map((a) => a.address)),
          ),
        );
  for (const address of addresses) {
    const refusal = refusalOf(address);
    if (refusal !== null) {
      throw new WebhookTargetError(
        `webhook URL ${parsed.origin} refused: ${refusal}; ${ALLOW_HINT}`,
      );
    }
  }
};

/**
 * A DNS lookup for outgoing webhook connections that refuses private answers,
 * so a name that resolved to a public address when it was added cannot be
 * rebound to an internal one at delivery time.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, found) => {
    if (error) return callback(error, '', 0);
    const addresses = found;
    for (const a of addresses) {
      const refusal = refusalOf(a.address);
      if (refusal !== null) {
        return callback(
          new WebhookTargetError(connectRefusal(hostname, a.address, refusal)),
          '',
          0,
        );
      }
    }
    if (options.all === true)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (first === undefined)
      return callback(new WebhookTargetError(`${hostname} has no address`), '', 0);
    callback(null, first.address, first.family);
  });
};
