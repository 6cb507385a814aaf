import {createHash, randomInt} from 'node:crypto';

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet = ALNUM): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const newDatabaseId = (): string => randomString(15);
export const newPassword = (): string => randomString(32);
/** REST API tokens of a database: full (`rfr_`) and read-only (`rfro_`), told apart at a glance. */
export const newRestToken = (): string => `rfr_${randomString(44)}`;
export const newReadOnlyRestToken = (): string => `rfro_${randomString(44)}`;
export const newTokenId = (): string => `tok_${randomString(12, LOWER_ALNUM)}`;
export const newTokenSecret = (): string => `rf_${randomString(40)}`;
/** An organization-scoped token's secret: the prefix tells a reader (logs, secret scanners) what
 *  kind of token leaked; what the token may do comes from its record's scope. */
export const newOrgTokenSecret = (): string => `rfo_${randomString(40)}`;
export const newRequestId = (): string => `req_${randomString(16, LOWER_ALNUM)}`;

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const ADJECTIVES = [
  'late', 'quiet', 'bold', 'brave', 'calm', 'crimson', 'damp', 'dark', 'dawn', 'empty', 'falling', 'floral',
  'fragrant', 'frosty', 'gentle', 'green', 'hidden', 'holy', 'icy', 'jolly', 'lively', 'long', 'misty',
  'morning', 'muddy', 'nameless', 'old', 'patient', 'polished', 'proud', 'restless', 'rough', 'shy', 'silent',
  'small', 'snowy', 'solitary', 'sparkling', 'spring', 'still', 'summer', 'twilight', 'wandering', 'weathered',
  'white', 'wild', 'winter', 'withered', 'young',
];
const NOUNS = [
  'waterfall', 'river', 'breeze', 'moon', 'rain', 'wind', 'sea', 'snow', 'lake', 'sunset', 'pine', 'shadow',
  'leaf', 'dawn', 'glitter', 'forest', 'hill', 'cloud', 'meadow', 'sun', 'glade', 'bird', 'brook', 'butterfly',
  'bush', 'dew', 'dust', 'field', 'fire', 'flower', 'firefly', 'feather', 'grass', 'haze', 'mountain', 'night',
  'pond', 'darkness', 'snowflake', 'silence', 'sound', 'sky', 'shape', 'surf', 'thunder', 'violet', 'water',
  'wildflower', 'wave', 'resonance', 'star',
];

/** A readable name like `late-waterfall-1133`. */
export function generatedName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000, 10000)}`;
}
