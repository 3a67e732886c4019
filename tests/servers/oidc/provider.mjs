// A real OpenID Connect provider for the bridge's tests: npm's `oidc-provider` (OpenID Certified), installed
// into .cache/oidc-provider by scripts/ensure-oidc-provider.sh, started by tests/servers/oidc/provider.py.
//
//   node provider.mjs '<settings as JSON>'
//
// settings: {"modules": "<node_modules folder>", "clients": [{"client_id", "client_secret",
// "token_endpoint_auth_method"}], "audience": "<resource indicator>", "scope": "<scope>",
// "token_lifetime_s": <seconds>}.
//
// It listens on 127.0.0.1 on a free port and prints one line of JSON, {"issuer": "http://127.0.0.1:PORT"},
// once it answers. Each client may use the client-credentials grant only. oidc-provider itself lets a client
// with a secret send it either way; here a client must authenticate the way it was registered
// (token_endpoint_auth_method: client_secret_basic or client_secret_post), as a strict provider does, and
// its tokens say which way it did (claim `client_auth_method`). With resource indicators every token is for
// `audience` (the default resource, so the client need not ask for it): an RS256 JWT signed with a key made
// at start-up (published at /jwks) that lives `token_lifetime_s` seconds.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const settings = JSON.parse(process.argv[2]);
const entry = pathToFileURL(join(settings.modules, 'oidc-provider', 'lib', 'index.js')).href;
const { default: Provider, errors } = await import(entry);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bridge-tests', use: 'sig', alg: 'RS256' };

function resourceServer(ctx, resource) {
  if (resource !== settings.audience) {
    throw new errors.InvalidTarget();
  }
  return {
    audience: settings.audience,
    scope: settings.scope,
    accessTokenFormat: 'jwt',
    accessTokenTTL: settings.token_lifetime_s,
    jwt: { sign: { alg: 'RS256' } },
  };
}

// How the client authenticated at the token endpoint: an Authorization header is client_secret_basic.
function usedAuthMethod(ctx) {
  const header = ctx.headers.authorization || '';
  return header.toLowerCase().startsWith('basic ') ? 'client_secret_basic' : 'client_secret_post';
}

async function authMethodClaim(ctx) {
  const used = usedAuthMethod(ctx);
  const registered = ctx.oidc.client.tokenEndpointAuthMethod;
  if (used !== registered) {
    throw new errors.InvalidClientAuth(`the client is registered for ${registered}, not ${used}`);
  }
  return { client_auth_method: used };
}

function configuration() {
  return {
    clients: settings.clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      token_endpoint_auth_method: client.token_endpoint_auth_method,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: settings.scope,
    })),
    jwks: { keys: [signingKey] },
    scopes: [settings.scope],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => settings.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: resourceServer,
      },
    },
    extraTokenClaims: authMethodClaim,
    ttl: { ClientCredentials: settings.token_lifetime_s },
  };
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
