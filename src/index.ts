export * from './network';
export * from './gateway';
export * from './service';
export * from './platform';
