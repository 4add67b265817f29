import { type ViteUserConfig } from 'vitest/config';
/** The config of one vitest project: its name and, optionally, its own spec globs. */
export declare function projectConfig(name: string, include?: string[]): ViteUserConfig;
