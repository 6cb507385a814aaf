export * from './types';
export {adoptConcurrency, LocalProvisioner, ReconcileError, reconcileConcurrency} from './local';
export type {LocalProvisionerOptions} from './local';
export {
  RedisServerMissingError,
  RedisServerTooOldError,
  ProcessStartError,
  ProcessStoppedError,
  UnsupportedChangeError,
} from './errors';
