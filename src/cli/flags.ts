// Flags several commands share.
import {Flags} from '@oclif/core';

/**
 * -o/--org on the commands that take a database id or name. Names are unique per organization
 * only, so a name used in several of the token's organizations needs it (the API answers 409
 * ambiguous_name without); an id needs it never. REDFLY_ORG as everywhere else.
 */
export const databaseOrgFlag = () =>
  Flags.string({char: 'o', summary: 'organization of the database, when its name is used in several', env: 'REDFLY_ORG'});
