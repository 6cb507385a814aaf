export {DatabaseService} from './service';
export type {CreateResult, DatabaseServiceOptions} from './service';
