/** The host's version, reported by /v1/health and the OpenAPI document. Kept in step with package.json. */
export const HOST_VERSION = '0.1.0';
