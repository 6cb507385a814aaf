// GET /metrics: Prometheus's text format, behind a bearer token like the API (Prometheus sends
// it with `authorization: {credentials_file: ...}`); a token sees its organizations only.
import type {ApiApp} from '../app';
import {collectMetrics, METRICS_CONTENT_TYPE, MetricsSources} from '../metrics';

export function metricsRoutes(app: ApiApp, src: MetricsSources): void {
  app.get(
    '/metrics',
    {schema: {summary: 'Figures for Prometheus (text format) of the token\'s organizations', tags: ['operations']}},
    async (req, reply) => {
      const text = await collectMetrics(src, req.token!.orgs);
      void reply.header('content-type', METRICS_CONTENT_TYPE);
      return text;
    },
  );
}
