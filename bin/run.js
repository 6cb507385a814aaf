#!/usr/bin/env node
// Production entry: loads the compiled commands through the shipped oclif.manifest.json.
require('@oclif/core').execute({dir: __dirname}).catch(require('@oclif/core/handle'));
