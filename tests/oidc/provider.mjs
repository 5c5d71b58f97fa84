// The test session's OpenID Connect provider: it stands in for Keycloak (issue #15) so that
// the platform's sign-in code path runs against a real, certified provider implementation
// (panva's oidc-provider) rather than a mock.
//
// Usage: node tests/oidc/provider.mjs <config.json>
//
// The config file is written by tests/oidc_provider.py (mode 0600: it holds client secrets
// and passwords) and names the issuer, the port, the clients, the accounts and the cookie
// signing keys. The signing key is made here at every start and never written anywhere: the
// relying party must read it from the JWKS endpoint, as it would from Keycloak.
//
// oidc-provider's own quick-start interactions are off; the login page is ours (French-first,
// inputs `username` and `password`), a wrong password renders the form again with an error and
// never logs in, and consent is granted without asking because every client configured here
// is first-party (Keycloak's "consent required: off"). State lives in oidc-provider's memory
// adapter: the provider lives as long as the test session and nothing must outlive it.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

function log(message) {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

function fail(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
  process.exit(2);
}

// oidc-provider 9 calls crypto.hash (PKCE, key ids, client secrets): Node.js 20.12 or later.
if (typeof crypto.hash !== 'function') {
  fail(`Node.js ${process.version} is too old: oidc-provider needs 20.12 or later (crypto.hash)`);
}

function loadConfig(path) {
  if (!path) {
    fail('usage: node provider.mjs <config.json>');
  }
  const config = JSON.parse(readFileSync(path, 'utf8'));
  const issuer = new URL(config.issuer);
  if (issuer.protocol !== 'http:' && issuer.protocol !== 'https:') {
    fail(`issuer must be an http(s) URL, got ${config.issuer}`);
  }
  const defaultPort = issuer.protocol === 'https:' ? 443 : 80;
  if (Number(issuer.port || defaultPort) !== config.port) {
    fail(`issuer ${config.issuer} does not name port ${config.port}`);
  }
  if (!Array.isArray(config.cookie_keys) || config.cookie_keys.length === 0) {
    fail('cookie_keys must hold at least one key');
  }
  if (!Array.isArray(config.clients) || config.clients.length === 0) {
    fail('clients must hold at least one client');
  }
  if (!Array.isArray(config.accounts)) {
    fail('accounts must be a list');
  }
  const names = new Set(config.accounts.map((account) => account.username));
  if (names.size !== config.accounts.length) {
    fail('two accounts share a username');
  }
  return config;
}

const config = loadConfig(process.argv[2]);
const issuer = config.issuer.replace(/\/$/, '');
const accounts = new Map(config.accounts.map((account) => [account.username, account]));

// A fresh RS256 key pair for this run: the private half lives in this process only.
function signingKeys() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = crypto.hash('sha256', `${jwk.n}.${jwk.e}`, 'base64url').slice(0, 16);
  return { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
}

// Constant-time comparison of two strings of any length (digests have equal lengths).
function sameSecret(given, expected) {
  const a = crypto.createHash('sha256').update(String(given)).digest();
  const b = crypto.createHash('sha256').update(String(expected)).digest();
  return crypto.timingSafeEqual(a, b);
}

function htmlSafe(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `body{font-family:sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin-top:1rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.5rem 1rem}.error{color:#b00020;font-weight:bold}`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlSafe(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>`;
}

function loginPage({ uid, clientName, username, error }) {
  const alert = error ? `<p class="error" role="alert" id="login-error">${htmlSafe(error)}</p>` : '';
  return page('Connexion', `<h1>Connexion</h1>
<p>Connectez-vous pour accéder à ${htmlSafe(clientName)}.</p>
${alert}
<form id="login-form" method="post" action="/interaction/${htmlSafe(uid)}/login" autocomplete="off">
<label for="username">Identifiant</label>
<input id="username" name="username" type="text" value="${htmlSafe(username)}" required autofocus>
<label for="password">Mot de passe</label>
<input id="password" name="password" type="password" required>
<button id="login-submit" type="submit">Se connecter</button>
</form>`);
}

function accountClaims(account) {
  const name = [account.given_name, account.family_name].filter(Boolean).join(' ');
  return {
    sub: account.username,
    preferred_username: account.username,
    name: name || undefined,
    given_name: account.given_name,
    family_name: account.family_name,
    email: account.email,
    ...(typeof account.email_verified === 'boolean' ? { email_verified: account.email_verified } : {}),
    groups: [...(account.groups ?? [])],
  };
}

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // oidc-provider accepts client_secret_post for a client registered with
    // client_secret_basic and the other way round: both work, as with Keycloak.
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
  })),
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  jwks: signingKeys(),
  cookies: { keys: config.cookie_keys },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Keycloak puts the scopes' claims in the ID token too; a relying party reading either the
  // ID token or the userinfo endpoint sees the same claims.
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  // Every authorization request must carry an S256 code_challenge, confidential client or not.
  pkce: { required: () => true },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) {
      return undefined;
    }
    return { accountId: sub, claims: async () => accountClaims(account) };
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // No question asked: the page posts itself (a browser with JavaScript) and shows a
      // button that does the same (a client without JavaScript, such as the test's).
      async logoutSource(ctx, form) {
        if (!form.includes('</form>')) {
          throw new Error('unexpected logout form from oidc-provider');
        }
        const confirm = form.replace(
          '</form>',
          '<input type="hidden" name="logout" value="yes"/>'
            + '<button id="logout-submit" type="submit">Se déconnecter</button></form>',
        );
        ctx.type = 'html';
        ctx.body = page('Déconnexion', `<h1>Déconnexion</h1>
<p>Déconnexion en cours…</p>
${confirm}
<script>document.getElementById('op.logoutForm').submit();</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Déconnecté', '<h1>Vous êtes déconnecté.</h1>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const details = Object.entries(out)
      .map(([key, value]) => `<p><strong>${htmlSafe(key)}</strong> : ${htmlSafe(value)}</p>`)
      .join('\n');
    ctx.body = page('Erreur', `<h1>Une erreur est survenue</h1>\n${details}`);
  },
  ttl: {
    AccessToken: 60 * 60,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    Interaction: 10 * 60,
    Session: 8 * 60 * 60,
    Grant: 8 * 60 * 60,
  },
});

for (const event of [
  'authorization.error',
  'end_session.error',
  'grant.error',
  'userinfo.error',
  'jwks.error',
  'discovery.error',
]) {
  provider.on(event, (_ctx, err) => {
    log(`${event}: ${err.error ?? err.name}: ${err.error_description ?? err.message}`);
  });
}
provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack ?? err}`));
provider.on('grant.success', (ctx) => log(`grant.success: client ${ctx.oidc.client?.clientId}`));
provider.on('end_session.success', (ctx) => {
  log(`end_session.success: client ${ctx.oidc.client?.clientId ?? '-'}`);
});

const MAX_FORM_BYTES = 16 * 1024;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
  res.end(html);
}

async function clientName(clientId) {
  const client = await provider.Client.find(clientId);
  return client?.clientName ?? clientId;
}

// Consent for a first-party client: a Grant holding exactly what the request asked for.
async function grantConsent(req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) {
    grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  }
  if (prompt.details.missingOIDCClaims) {
    grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  }
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const saved = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId: saved } }, {
    mergeWithLastSubmission: true,
  });
}

async function handleInteraction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      send(res, 400, page('Erreur', '<h1>Cette demande de connexion a expiré.</h1>'
        + '<p>Revenez à l’application et recommencez.</p>'));
      return;
    }
    throw err;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Erreur', '<h1>Demande de connexion inconnue.</h1>'));
    return;
  }
  const { prompt, params } = details;

  if (req.method === 'GET' && action === undefined) {
    if (prompt.name === 'login') {
      send(res, 200, loginPage({ uid, clientName: await clientName(params.client_id) }));
    } else if (prompt.name === 'consent') {
      await grantConsent(req, res, details);
    } else {
      send(res, 501, page('Erreur', `<h1>Étape non prise en charge : ${htmlSafe(prompt.name)}</h1>`));
    }
    return;
  }

  if (req.method === 'POST' && action === 'login') {
    if (prompt.name !== 'login') {
      send(res, 400, page('Erreur', '<h1>Aucune connexion n’est attendue ici.</h1>'));
      return;
    }
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const account = accounts.get(username);
    // Compare even for an unknown username so that timing does not tell which exist.
    const passwordOk = sameSecret(form.get('password') ?? '', account?.password ?? crypto.randomUUID());
    if (!account || !passwordOk) {
      log(`login refused for ${JSON.stringify(username)} (client ${params.client_id})`);
      send(res, 200, loginPage({
        uid,
        clientName: await clientName(params.client_id),
        username,
        error: 'Identifiant ou mot de passe incorrect.',
      }));
      return;
    }
    log(`login accepted for ${JSON.stringify(username)} (client ${params.client_id})`);
    await provider.interactionFinished(req, res, { login: { accountId: username } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }

  res.setHeader('Allow', action === 'login' ? 'POST' : 'GET');
  send(res, 405, page('Erreur', '<h1>Méthode non autorisée.</h1>'));
}

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/;
const providerCallback = provider.callback();

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, issuer);
  res.on('finish', () => log(`${req.method} ${pathname} ${res.statusCode}`));
  const match = INTERACTION.exec(pathname);
  if (!match) {
    providerCallback(req, res);
    return;
  }
  handleInteraction(req, res, match[1], match[2]).catch((err) => {
    log(`interaction error: ${err.stack ?? err}`);
    if (!res.headersSent) {
      send(res, 500, page('Erreur', '<h1>Erreur interne du fournisseur d’identité.</h1>'));
    } else {
      res.destroy();
    }
  });
});

function shutdown(signal) {
  log(`${signal} received, stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

const { hostname } = new URL(issuer);
server.listen(config.port, hostname.replace(/^\[|\]$/g, ''), () => {
  // The one line the Python side (and a person) waits for; no timestamp, no prefix.
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
