export * from './api-authorization';
export * from './private-gateway';
