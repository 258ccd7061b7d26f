export * from './platform-service';
