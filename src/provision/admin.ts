// An ioredis connection as the internal user, for the control plane's own queries (INFO for
// stats) and, later, the gateway.
import Redis, {RedisOptions} from 'ioredis';
import {INTERNAL_USER} from './config';

export function adminConnection(port: number, internalSecret: string, options: RedisOptions = {}): Redis {
  return new Redis({host: '127.0.0.1', port, username: INTERNAL_USER, password: internalSecret, ...options});
}
