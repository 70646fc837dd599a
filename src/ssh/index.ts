export * from './profile.js';
export * from './config.js';
export * from './knownHosts.js';
export * from './hostKey.js';
export * from './errors.js';
export * from './auth.js';
export * from './connection.js';
export * from './pattern.js';
