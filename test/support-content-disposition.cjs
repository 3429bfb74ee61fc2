// Jest-only shim. @fastify/static (used by bull-board) require()s content-disposition 3, which is ESM-only;
// Node >= 20.19 loads that natively, but Jest's module runtime cannot (require(esm) needs Node 24.9 in Jest).
// Tests map it to version 1 (CommonJS, same `create` behaviour) through this file; production is unaffected.
const contentDisposition = require('content-disposition-v1');
module.exports = { create: contentDisposition, parse: contentDisposition.parse };
