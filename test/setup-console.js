// Jest wraps console.* with source locations; oclif prints through console.log, so install a
// plain Console to keep captured stdout exactly what a user would see.
const {Console} = require('node:console');
global.console = new Console({stdout: process.stdout, stderr: process.stderr});
