#!/usr/bin/env node
import { main } from '../dist/devices-sim/src/demo.js';

process.exitCode = await main(process.argv.slice(2));
