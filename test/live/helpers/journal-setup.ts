/**
 * Each live test file gets a journal folder of its own (unless it sets one): a migration a
 * test leaves interrupted on purpose (or by a failure) must not block the next file's runs,
 * or a later run on this machine, through the machine-wide /var/lib/conmig/journal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.CONMIG_JOURNAL_DIR) process.env.CONMIG_JOURNAL_DIR = mkdtempSync(join(tmpdir(), 'conmig-test-journal-'));
