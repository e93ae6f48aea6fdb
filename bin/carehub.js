#!/usr/bin/env node
import { main } from '../dist/hub/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
