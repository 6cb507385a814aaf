// Bundle-time stand-in for the form-data package (see bundle-cli.js). The API never takes
// multipart bodies; touching Node's global FormData here would load undici at every start.
module.exports = class FormData {
  constructor() {
    throw new Error('multipart request bodies are not supported by the redfly API client');
  }
};
