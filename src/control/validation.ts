// Request validation without type coercion in bodies: `"eviction": "true"`, `"readRegions":
// "ams"` or `{"org": ["personal"]}` are a 400 naming the field, never read as something else.
// Query strings and path parameters are text by nature, so there (and only there) numbers and
// booleans are still coerced. Two compilers of fastify's own kind (@fastify/ajv-compiler) over
// the same shared schemas, chosen by the part of the request.
import AjvCompiler from '@fastify/ajv-compiler';
import type {FastifyServerOptions} from 'fastify';

type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;

export const strictBodyValidator: BuildValidator = (externalSchemas, ajvOptions) => {
  const options = ajvOptions ?? {};
  const coercing = AjvCompiler()(externalSchemas, options);
  const strictOptions = {...options, customOptions: {...options.customOptions, coerceTypes: false}} as typeof options;
  const strict = AjvCompiler()(externalSchemas, strictOptions);
  return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
};
