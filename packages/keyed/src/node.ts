// @rxrnn/keyed/node: the Node-only half of the API (files), kept out of the main entry so that
// entry bundles for browsers. Re-exports everything of the main entry too.

/**
 * Everything of `@rxrnn/keyed`, plus the Node-only DirectoryStateStore (one file per key).
 *
 * @module @rxrnn/keyed/node
 */
export { DirectoryStateStore, type DirectoryStateStoreOptions } from './directory-store.js';
export * from './index.js';
