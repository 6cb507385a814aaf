// Typed failures of the API client. The CLI decides how to show them; the client never prints.

/** Common base so callers can tell "the API or the network said no" from programming errors. */
export class RedflyClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered with an error status; carries its one error shape. */
export class ApiError extends RedflyClientError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** No HTTP answer at all: refused, reset, DNS, unreachable. */
export class NetworkError extends RedflyClientError {
  constructor(
    message: string,
    readonly url: string,
    /** e.g. ECONNREFUSED */
    readonly causeCode?: string,
  ) {
    super(message);
  }
}

/** The server accepted the connection but did not answer in time. */
export class TimeoutError extends NetworkError {
  constructor(url: string, readonly timeoutMs: number) {
    super(`The redfly API at ${url} did not answer within ${timeoutMs} ms`, url, 'ETIMEDOUT');
  }
}

/** waitUntilReady: the database ended in `failed`, or never became ready in time. */
export class ProvisioningError extends RedflyClientError {
  constructor(message: string, readonly databaseId: string, readonly status: string) {
    super(message);
  }
}
