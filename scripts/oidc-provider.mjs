// Start oidc-provider (npm, pinned in scripts/install-test-servers.sh, installed into .test-servers) on 127.0.0.1
// as the SMART Backend Services authorization server of the oneup-client integration tests.
//
//   node scripts/oidc-provider.mjs [--port 0] [--ttl SECONDS] --client ID=KEY.pem [--client ID=KEY.pem ...]
//
// Each client is registered with `token_endpoint_auth_method: private_key_jwt`, the client credentials grant,
// and the public JWK of its PKCS#8 PEM private key (derived here by node's crypto, with `kid` = the client id and
// `alg` RS384 for an RSA key, ES384 for a P-384 key). The provider verifies each client assertion (signature,
// iss/sub, aud, exp, unique jti) before it issues an access token that lives `--ttl` seconds (default 3600).
// Port 0 lets the OS choose a free port. Once it serves, one JSON line is printed on stdout:
//   {"issuer": "http://127.0.0.1:PORT", "token_url": "http://127.0.0.1:PORT/token"}
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, '.test-servers', 'package.json'));
let entry;
try {
  entry = require.resolve('oidc-provider');
} catch {
  console.error('oidc-provider is not installed: run scripts/install-test-servers.sh');
  process.exit(2);
}
const { default: Provider } = await import(pathToFileURL(entry).href);

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(opt('--port', '0'));
const ttl = Number(opt('--ttl', '3600'));
const clients = [];
args.forEach((a, i) => {
  if (a !== '--client') return;
  const [id, pem] = args[i + 1].split('=');
  const jwk = createPublicKey(readFileSync(pem)).export({ format: 'jwk' });
  const alg = jwk.kty === 'RSA' ? 'RS384' : 'ES384';
  clients.push({
    client_id: id,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: alg,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'system/*.read system/Patient.read',
    jwks: { keys: [{ ...jwk, kid: id, alg, use: 'sig' }] },
  });
});
if (clients.length === 0) {
  console.error('give at least one --client ID=KEY.pem');
  process.exit(2);
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    scopes: ['system/*.read', 'system/Patient.read'],
    enabledJWA: { clientAuthSigningAlgValues: ['RS384', 'ES384'] },
    ttl: { ClientCredentials: ttl },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer, token_url: `${issuer}/token` }));
});
