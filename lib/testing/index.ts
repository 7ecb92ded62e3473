export * from './recording.transport.js';
export * from './convoy-testing.module.js';
