import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerMigrate(_program: Command): void {}
