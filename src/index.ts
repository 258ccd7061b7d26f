export * from './network';
export * from './gateway';
export * from './service';
export * from './database';
export * from './kafka';
export * from './scdf';
export * from './monitoring';
export * from './platform';
