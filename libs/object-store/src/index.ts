export type { ObjectInfo, ObjectStore, PutOptions } from './object-store';
export { parseUri, normalizeUri, joinUri, baseName } from './uri';
export type { ParsedUri } from './uri';
export { LocalObjectStore } from './local-store';
export { S3ObjectStore, s3ConfigFromEnv } from './s3-store';
export { RoutingObjectStore, createObjectStore } from './store-for';
export { allowedLocationsFromEnv } from './allowed-locations';
export type { LocationPolicy } from './allowed-locations';
