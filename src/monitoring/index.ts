// The monitoring's public API: PlatformMonitoring and its props; the other files here are internals.
export * from './platform-monitoring';
