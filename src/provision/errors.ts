// Typed failures of the local provisioner, so the control plane can map them to clear messages.

export class RedisServerMissingError extends Error {
  readonly code = 'redis_server_missing';
  constructor(readonly path: string) {
    super(
      `redis-server was not found (looked for "${path}"). Install Redis 7 or later: ` +
        '`sudo apt-get install redis-server` on Debian/Ubuntu, `brew install redis` on macOS, ' +
        'or point the provisioner at the binary.',
    );
    this.name = 'RedisServerMissingError';
  }
}

export class RedisServerTooOldError extends Error {
  readonly code = 'redis_server_too_old';
  constructor(readonly path: string, readonly version: string) {
    super(`${path} is Redis ${version}; redfly needs Redis 7.0 or later (ACL users, multi-part AOF).`);
    this.name = 'RedisServerTooOldError';
  }
}

/** A redis-server process did not come up (exited during start-up, or did not answer in time). */
export class ProcessStartError extends Error {
  readonly code = 'process_start_failed';
  constructor(message: string, readonly portInUse = false) {
    super(message);
    this.name = 'ProcessStartError';
  }
}

/** The operation was cut short because the process (or the whole provisioner) is being stopped. */
export class ProcessStoppedError extends Error {
  readonly code = 'process_stopped';
  constructor(what: string) {
    super(`${what} was stopped`);
    this.name = 'ProcessStoppedError';
  }
}

export class UnsupportedChangeError extends Error {
  readonly code = 'unsupported_change';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedChangeError';
  }
}
