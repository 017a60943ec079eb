import type { Command } from 'commander';

// Placeholder: the owner of this command replaces this file.
export function registerCompare(_program: Command): void {}
