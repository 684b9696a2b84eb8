#!/usr/bin/env node
import { runDicomCli } from './dicom.cli.js';

process.exitCode = await runDicomCli(process.argv.slice(2));
