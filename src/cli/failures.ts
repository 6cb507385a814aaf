// Every failure a command can meet, turned into what the user sees: message, code, a hint to act
// on, and the exit code (0 ok, 1 API or machine, 2 usage or validation, 130 aborted).
import {ApiError, NetworkError, ProvisioningError, TimeoutError} from '../api/errors';
import {CliFailure, UsageError} from './errors';
import {bin} from './bin';

export interface Failure {
  message: string;
  code: string;
  suggestions: string[];
  exit: number;
  aborted?: boolean;
}

export function isPromptAbort(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === 'ExitPromptError' || name === 'AbortPromptError';
}

export function describeFailure(error: unknown, source?: 'flags' | 'login' | 'local'): Failure {
  if (isPromptAbort(error)) return {message: 'Aborted.', code: 'aborted', suggestions: [], exit: 130, aborted: true};
  if (error instanceof ApiError) return apiFailure(error);
  if (error instanceof TimeoutError) {
    return {message: error.message, code: 'timeout', suggestions: serverHints(source), exit: 1};
  }
  if (error instanceof NetworkError) {
    return {message: error.message, code: 'network_error', suggestions: serverHints(source), exit: 1};
  }
  if (error instanceof ProvisioningError) {
    return {
      message: error.message,
      code: 'provisioning_failed',
      suggestions: [`${bin()} redis status ${error.databaseId}`],
      exit: 1,
    };
  }
  if (error instanceof UsageError) {
    return {message: error.message, code: error.code, suggestions: error.suggestions, exit: 2};
  }
  if (error instanceof CliFailure) {
    return {message: error.message, code: error.code, suggestions: error.suggestions, exit: 1};
  }
  const e = error as Error & {oclif?: {exit?: number}; code?: unknown; suggestions?: string[]};
  if (e?.oclif) {
    // oclif's own parse errors (unknown flag, missing argument) carry exit 2.
    const exit = typeof e.oclif.exit === 'number' ? e.oclif.exit : 1;
    const code = typeof e.code === 'string' ? e.code : exit === 2 ? 'invalid_usage' : 'error';
    return {message: e.message, code, suggestions: e.suggestions ?? [], exit};
  }
  return {message: e?.message || String(error), code: 'internal_error', suggestions: [], exit: 1};
}

function apiFailure(error: ApiError): Failure {
  // 409 (name_taken, slug_taken) is the input's fault as much as a 400: fix the input, exit 2.
  const exit = error.status === 400 || error.status === 409 || error.status === 422 ? 2 : 1;
  const message =
    error.status >= 500 && error.requestId ? `${error.message} (request id ${error.requestId})` : error.message;
  return {message, code: error.code, suggestions: apiHints(error), exit};
}

function apiHints(error: ApiError): string[] {
  switch (error.code) {
    case 'unknown_region':
      return [`${bin()} regions list`];
    case 'unknown_plan':
      return [`${bin()} redis plans`];
    case 'name_taken':
      return ['choose another --name, or leave it out to get a generated one'];
    case 'ambiguous_name': {
      const orgs = (error.details as {orgs?: unknown} | undefined)?.orgs;
      const list = Array.isArray(orgs) ? `: ${orgs.join(', ')}` : '';
      return [`pass --org with the database's organization${list}`, `${bin()} redis list`];
    }
    case 'slug_taken':
      return [`${bin()} orgs list`];
    case 'immutable_field':
      return ['the primary region and the name cannot change: create a new database instead'];
    case 'invalid_name':
      return ['names are lowercase letters, digits and dashes'];
    default:
  }
  if (error.status === 401) return [`${bin()} auth login, or pass --access-token / REDFLY_ACCESS_TOKEN`];
  if (error.status === 404) return [`${bin()} redis list`];
  if (error.status === 429) return ['wait a moment and try again'];
  if (error.status >= 500) return ['try again in a moment', `${bin()} server status (for the local server)`];
  return [];
}

function serverHints(source?: string): string[] {
  return source === 'local'
    ? [`${bin()} server status`, `${bin()} server start`]
    : [`check --api-url / REDFLY_API_URL, or run ${bin()} auth login`];
}
