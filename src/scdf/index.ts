export * from './image-source';
export * from './app-artifacts';
export * from './kafka-console';
export * from './spring-cloud-data-flow';
