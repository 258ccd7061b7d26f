export * from './api-authorization';
export * from './gateway-route';
export * from './private-gateway';
