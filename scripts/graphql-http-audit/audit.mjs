// Usage: npm install && DESKGRAPH_URL=http://127.0.0.1:8080/graphql TOKEN=... node audit.mjs
// Every request carries the bearer token, since deskgraph refuses unauthenticated calls.
import { auditServer } from 'graphql-http';

const url = process.env.DESKGRAPH_URL ?? 'http://127.0.0.1:8080/graphql';
const token = process.env.TOKEN;
if (!token) {
  console.error('set TOKEN to a bearer token (deskgraph prints one at start)');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
let mustFailed = 0;
for (const r of results) {
  const mark = r.status === 'ok' ? 'ok  ' : r.status === 'warn' ? 'WARN' : 'FAIL';
  if (r.status === 'error') mustFailed += 1;
  console.log(`${mark} ${r.id} ${r.name}${r.status === 'ok' ? '' : `: ${r.reason}`}`);
}
const count = (s) => results.filter((r) => r.status === s).length;
console.log(`\n${count('ok')} ok, ${count('warn')} warnings, ${count('error')} errors`);
process.exit(mustFailed ? 1 : 0);
