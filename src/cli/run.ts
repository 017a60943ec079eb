import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerRun(_program: Command): void {}
