// The topic layout under fleet/<fleet>/ (fleet/exchange/README.md). Names are checked before
// they reach a topic, so a silo id can never carry an MQTT wildcard or an extra level.

import { ExchangeConfigError } from './errors.ts';

/** Fleet names and silo ids: letters, digits, '-' and '_' (no '/', '+', '#'), 1 to 64 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function checkName(kind: 'fleet' | 'silo', name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new ExchangeConfigError(
      `${kind} name "${name}" is not usable in a topic: use 1-64 letters, digits, '-' or '_'`,
    );
  }
  return name;
}

export const presenceTopic = (fleet: string, silo: string): string => `fleet/${fleet}/presence/${silo}`;
export const presenceFilter = (fleet: string): string => `fleet/${fleet}/presence/+`;

/** Chunk `index` of the silo's newest update (retained, so a late peer receives the newest model). */
export const chunkTopic = (fleet: string, silo: string, index: number): string =>
  `fleet/${fleet}/models/${silo}/${index}`;
/** Every chunk of one peer (`peer` given) or of every silo in the fleet. */
export const chunkFilter = (fleet: string, peer?: string): string => `fleet/${fleet}/models/${peer ?? '+'}/+`;

/**
 * A silo that reconnected to a broker without its session asks every silo to publish its held
 * rounds again (not retained: a request is for the silos online now).
 */
export const resyncTopic = (fleet: string, silo: string): string => `fleet/${fleet}/resync/${silo}`;
export const resyncFilter = (fleet: string): string => `fleet/${fleet}/resync/+`;

export type ParsedTopic =
  | { readonly kind: 'presence'; readonly silo: string }
  | { readonly kind: 'chunk'; readonly silo: string; readonly index: number }
  | { readonly kind: 'resync'; readonly silo: string }
  | { readonly kind: 'other' };

/** What a topic of this fleet carries; 'other' for anything outside the layout. */
export function parseTopic(fleet: string, topic: string): ParsedTopic {
  const parts = topic.split('/');
  if (parts[0] !== 'fleet' || parts[1] !== fleet) return { kind: 'other' };
  const silo = parts[3];
  if (silo === undefined || !NAME_PATTERN.test(silo)) return { kind: 'other' };
  if (parts[2] === 'presence' && parts.length === 4) return { kind: 'presence', silo };
  if (parts[2] === 'resync' && parts.length === 4) return { kind: 'resync', silo };
  if (parts[2] === 'models' && parts.length === 5 && /^(0|[1-9][0-9]{0,5})$/.test(parts[4]!)) {
    return { kind: 'chunk', silo, index: Number(parts[4]) };
  }
  return { kind: 'other' };
}
