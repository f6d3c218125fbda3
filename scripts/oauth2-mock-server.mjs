// Start oauth2-mock-server 9.3.0 (installed into .test-servers by scripts/install-test-servers.sh) on 127.0.0.1
// for the oneup-client integration tests.
//
//   node scripts/oauth2-mock-server.mjs [--port 0] [--code-token-ttl SECONDS] [--user-management] [--connect]
//
// Port 0 lets the OS choose a free port. Once it serves, one JSON line is printed on stdout:
//   {"issuer": "http://127.0.0.1:PORT", "token_url": ".../token", "authorize_url": ".../authorize", "jwks_url": ...}
// --code-token-ttl sets the lifetime (`exp` claim) of the tokens issued for an authorization code, while the token
// response keeps saying `expires_in: 3600`; tokens from a refresh keep the default 3600 s. So a test can hold a
// token that the resource server already refuses as stale although the client still believes it fresh, and
// recover by refreshing it.
// --user-management adds a small in-memory stand-in for 1upHealth's user-management API on the same server
// (there is no local 1upHealth): POST/GET/PUT /user-management/v1/user and POST /user-management/v1/user/auth-code,
// with the answer shapes of the 1upHealth guides. The codes it hands out are accepted by this server's /token, as
// 1upHealth's codes are by its token endpoint.
// --connect adds a stand-in for 1upHealth's connect and health-system search endpoints, with a few sample systems
// (bearer token required, as 1upHealth does): GET /connect (the iframe page), GET /connect/system/provider/search
// (a Bundle of Organizations with a logo extension), GET /connect/system/clinical (health_systems_only, name),
// and POST /api/search?offset=N (pages of 20). The connect link itself leads to a real health system's login, which
// has no local stand-in. Everything else is the package's own behaviour:
// authorization code with PKCE, refresh tokens, RS256 JWTs verifiable at /jwks.
import { randomUUID } from 'node:crypto';
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
  console.error('usage: oauth2-mock-server.mjs [--port N] [--code-token-ttl SECONDS] [--user-management] [--connect]');
  process.exit(2);
}

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on(Events.BeforeTokenSigning, (token, req) => {
  if (req.body?.grant_type === 'authorization_code') {
    token.payload.exp = Math.floor(Date.now() / 1000) + codeTokenTtl;
  }
});
if (args.includes('--user-management')) {
  addUserManagement(server.service);
}
if (args.includes('--connect')) {
  addConnect(server.service);
}
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

function addUserManagement(service) {
  const users = new Map(); // app_user_id -> { oneup_user_id, app_user_id, active }
  let nextId = 251;
  const send = (res, status, body) => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  };
  const keysOk = (fields) => Boolean(fields?.client_id) && Boolean(fields?.client_secret);
  const path = '/user-management/v1/user';
  service.addRoute('POST', path, (req, res) => {
    const f = { ...req.query, ...req.body };
    if (!keysOk(f) || !f.app_user_id) return send(res, 400, { success: false, error: 'app_user_id, client_id and client_secret are required' });
    if (users.has(f.app_user_id)) return send(res, 200, { success: false, error: 'this user already exists' });
    const user = { oneup_user_id: nextId++, app_user_id: f.app_user_id, active: true };
    users.set(f.app_user_id, user);
    send(res, 200, { success: true, code: randomUUID().replaceAll('-', ''), ...user });
  });
  service.addRoute('POST', `${path}/auth-code`, (req, res) => {
    const f = { ...req.query, ...req.body };
    const user = users.get(f.app_user_id);
    if (!keysOk(f)) return send(res, 400, { success: false, error: 'client_id and client_secret are required' });
    if (!user) return send(res, 404, { success: false, error: 'Could not find a user matching this query.' });
    send(res, 200, { success: true, code: randomUUID().replaceAll('-', ''), ...user, oneup_user_id: String(user.oneup_user_id) });
  });
  service.addRoute('GET', path, (req, res) => {
    const q = req.query;
    // API reference, "Get Users": "This endpoint receives authentication in the form of a http bearer
    // authentication header." A secret in the query string is refused: it would land in access logs.
    if (q.client_secret) return send(res, 400, { error: 'client_secret does not belong in a URL' });
    const bearer = /^Bearer \S+$/.test(req.headers.authorization ?? '');
    if (!bearer) return send(res, 401, { error: 'a bearer authentication header is required' });
    const found = [...users.values()].filter((u) =>
      (!q.app_user_id || u.app_user_id === q.app_user_id) && (!q.oneup_user_id || String(u.oneup_user_id) === q.oneup_user_id));
    if (found.length === 0) return send(res, 404, { error: 'Could not find a user matching this query.' });
    send(res, 200, { success: true, entry: found });
  });
  service.addRoute('PUT', path, (req, res) => {
    const f = { ...req.query, ...req.body };
    const entry = [...users.entries()].find(([, u]) => String(u.oneup_user_id) === f.oneup_user_id);
    if (!keysOk(f) || !entry) return send(res, 404, { success: false, error: 'Could not find a user matching this query.' });
    users.delete(entry[0]);
    entry[1].app_user_id = f.app_user_id;
    users.set(f.app_user_id, entry[1]);
    send(res, 200, { oneUpUserId: entry[1].oneup_user_id, success: true });
  });
}

function addConnect(service) {
  const systems = Array.from({ length: 45 }, (_, i) => ({
    id: 4700 + i,
    name: i === 6 ? 'Epic Sandbox' : `Sample Health System ${i}`,
    address: `${100 + i} Main St Ann Arbor MI 48109`,
  }));
  systems.push({ id: 4894, name: 'Michigan Medicine', address: '1500 E Medical Center Dr Ann Arbor MI 48109' });
  const send = (res, status, body, type = 'application/json') => {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const authorized = (req, res) => {
    if (/^Bearer \S+/.test(req.headers.authorization ?? '')) return true;
    send(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'a bearer token is required' }] });
    return false;
  };
  const organization = (s) => ({
    resourceType: 'Organization',
    id: String(s.id),
    identifier: [{ system: 'https://api.1up.health/connect/system', value: String(s.id) }],
    name: s.name,
    address: [{ text: s.address }],
    extension: [{ url: 'https://1up.health/fhir/StructureDefinition/logo', valueUrl: `https://cdn.example/logos/${s.id}.png` }],
  });
  service.addRoute('GET', '/connect', (req, res) => {
    send(res, 200, '<!doctype html><title>Connect your health records</title><p>Pick your health system.</p>', 'text/html');
  });
  service.addRoute('GET', '/connect/system/provider/search', (req, res) => {
    if (!authorized(req, res)) return;
    const q = String(req.query.query ?? '').toLowerCase();
    const found = systems.filter((s) => s.name.toLowerCase().includes(q) || s.address.toLowerCase().includes(q));
    send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: found.length, entry: found.map((s) => ({ resource: organization(s) })) }, 'application/fhir+json');
  });
  service.addRoute('GET', '/connect/system/clinical', (req, res) => {
    if (!authorized(req, res)) return;
    const name = req.query.name ? String(req.query.name).toLowerCase() : null;
    const list = systems
      .filter((s) => !name || s.name.toLowerCase().includes(name))
      .map((s) => ({ id: s.id, name: s.name, resource_url: `https://fhir.example/${s.id}/r4`, api_version: 'r4', status: 'online', logo: `https://cdn.example/logos/${s.id}.png`, locations: [{ name: s.name, address: s.address }] }));
    send(res, 200, list);
  });
  service.addRoute('POST', '/api/search', (req, res) => {
    if (!authorized(req, res)) return;
    const offset = Number.parseInt(String(req.query.offset ?? '0'), 10) || 0;
    send(res, 200, systems.slice(offset, offset + 20));
  });
}
