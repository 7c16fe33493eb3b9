#!/usr/bin/env node
// The CLI is compiled TypeScript; `npm run build` (run by scripts/setup.sh) produces dist/.
import { main } from '../dist/harness/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
