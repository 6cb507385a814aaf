export * from './types';
export {LocalProvisioner, ReconcileError} from './local';
export {adoptConcurrency, reconcileConcurrency} from './concurrency';
export type {LocalProvisionerOptions} from './local';
export {
  RedisServerMissingError,
  RedisServerTooOldError,
  ProcessStartError,
  ProcessStoppedError,
  UnsupportedChangeError,
} from './errors';
