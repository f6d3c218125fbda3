// Start oauth2-mock-server 9.3.0 (installed into .test-servers by scripts/install-test-servers.sh) on 127.0.0.1
// for the oneup-client integration tests.
//
//   node scripts/oauth2-mock-server.mjs [--port 0] [--code-token-ttl SECONDS]
//
// Port 0 lets the OS choose a free port. Once it serves, one JSON line is printed on stdout:
//   {"issuer": "http://127.0.0.1:PORT", "token_url": ".../token", "authorize_url": ".../authorize", "jwks_url": ...}
// --code-token-ttl sets the lifetime (`exp` claim) of the tokens issued for an authorization code, while the token
// response keeps saying `expires_in: 3600`; tokens from a refresh keep the default 3600 s. So a test can hold a
// token that the resource server already refuses as stale although the client still believes it fresh, and
// recover by refreshing it. Everything else is the package's own behaviour:
// authorization code with PKCE, refresh tokens, RS256 JWTs verifiable at /jwks.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, '.test-servers', 'package.json'));
let entry;
try {
  entry = require.resolve('oauth2-mock-server');
} catch {
  console.error('oauth2-mock-server is not installed: run scripts/install-test-servers.sh');
  process.exit(2);
}
const { OAuth2Server, Events } = await import(pathToFileURL(entry).href);

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = Number.parseInt(opt('--port', '0'), 10);
const codeTokenTtl = Number.parseInt(opt('--code-token-ttl', '3600'), 10);
if (!Number.isInteger(port) || !Number.isInteger(codeTokenTtl)) {
  console.error('usage: oauth2-mock-server.mjs [--port N] [--code-token-ttl SECONDS]');
  process.exit(2);
}

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on(Events.BeforeTokenSigning, (token, req) => {
  if (req.body?.grant_type === 'authorization_code') {
    token.payload.exp = Math.floor(Date.now() / 1000) + codeTokenTtl;
  }
});
await server.start(port, '127.0.0.1');
const address = server.address();
const issuer = `http://127.0.0.1:${address.port}`;
server.issuer.url = issuer;
console.log(JSON.stringify({
  issuer,
  token_url: `${issuer}/token`,
  authorize_url: `${issuer}/authorize`,
  jwks_url: `${issuer}/jwks`,
}));

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
