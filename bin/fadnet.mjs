#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, run through tsx so that `npm install` then
// `npm start` works with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
