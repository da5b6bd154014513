import { API, type ApiRouteName } from '../../../contracts/api.ts';

type Matcher = { name: ApiRouteName; method: string; pattern: RegExp };

/** `/v1/runs/{id}` as a pattern matching one path segment per parameter. */
function patternOf(path: string): RegExp {
  const escaped = path
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

const MATCHERS: readonly Matcher[] = (Object.keys(API) as ApiRouteName[]).map((name) => ({
  name,
  method: API[name].method.toUpperCase(),
  pattern: patternOf(API[name].path),
}));

/** The API route a request addresses, by method and path; undefined when none does. */
export function routeOf(method: string, path: string): ApiRouteName | undefined {
  const upper = method === 'HEAD' ? 'GET' : method.toUpperCase();
  return MATCHERS.find((m) => m.method === upper && m.pattern.test(path))?.name;
}

/** The methods the API defines for a path (for 405 `Allow`); empty when the path is unknown. */
export function methodsOf(path: string): string[] {
  return [...new Set(MATCHERS.filter((m) => m.pattern.test(path)).map((m) => m.method))];
}
