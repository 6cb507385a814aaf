// The backend user that tenant traffic runs as. The gateway forwards every client command
// under this user, and Redis runs scripts and functions as the calling connection's user, so
// what the service refuses (src/redis/refusals.ts) is also impossible from EVAL or FCALL:
// Redis's own ACL enforces it, not only the gateway's list. The internal user (all
// permissions) stays for the control plane, the gateway's monitor and replication.
import {createHash} from 'node:crypto';
import {tenantAclRules} from './refusals';

export const TENANT_USER = 'redfly-tenant';

/** The redis.conf line for the tenant user, with the internal secret in SHA-256 form. */
export function tenantUserConfigLine(secret: string): string {
  return `user ${TENANT_USER} reset on #${createHash('sha256').update(secret).digest('hex')} ${tenantAclRules()}`;
}
