// The benchmark driver that bench/run.sh calls: starts the release server (a fresh process per
// scenario, so each scenario's peak RSS is its own), loads it with autocannon, checks every
// response body, reads the SQL statement counter from /metrics, and prints one table.
//
// node bench.mjs --bin PATH --db URL --site UUID --token JWT --write-token JWT 
//   [--label NAME] [--duration 10] [--connections 16] [--scenarios 1,2,3,4,5,6,7] [--peer]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import autocannon from 'autocannon';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]?.startsWith('--') || all[i + 1] === undefined ? 'true' : all[i + 1]]);
    return acc;
  }, []),
);
const DURATION = Number(args.duration ?? 10);
const CONNECTIONS = Number(args.connections ?? 16);
const WARMUP = Number(args.warmup ?? 2);
const wanted = (args.scenarios ?? '1,2,3,3s,4,5,6,7').split(',');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

async function startDeskgraph() {
  const port = await freePort();
  const child = spawn(args.bin, ['serve', '--no-demo'], {
    env: { ...process.env, DATABASE_URL: args.db, DESKGRAPH_BIND: `127.0.0.1:${port}`, DESKGRAPH_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/healthz`, child);
  return { child, base };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, sleep(5000).then(() => child.kill('SIGKILL'))]);
}

function peakRss(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function statements(base) {
  try {
    const r = await fetch(`${base}/metrics`);
    if (!r.ok) return null;
    const text = await r.text();
    let sum = null;
    for (const line of text.split('\n')) {
      if (/^deskgraph_db_statements_total(\{|\s)/.test(line)) sum = (sum ?? 0) + Number(line.trim().split(/\s+/).pop());
    }
    return sum;
  } catch {
    return null;
  }
}

async function gql(base, token, query, variables) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const INBOX_FIELDS = `id subject status priority createdTime lastUpdatedTime lastRepliedTime
      tags { id name }
      assignee { __typename ... on Agent { id name } ... on Chatbot { id name } }
      contactOrVisitor { __typename ... on Contact { id name } ... on Visitor { id name } }
      lastMessage { id body time sentByType }`;
const INBOX = `query($after: String) { tickets(first: 50, after: $after) { edges { node { ${INBOX_FIELDS} } } pageInfo { endCursor hasNextPage } } }`;

const FULL_TICKET = `query($id: Int!) { ticket(id: $id) {
  id subject originalConversationId assigneeId assigneeType departmentAssigneeId channelId channelAccountId
  lastMessageId lastMessageChannelId lastMessageChannelAccountId contactOrVisitorId contactOrVisitorType
  createdById createdByType lastRepliedById lastRepliedByType resolvedById resolvedByType status priority
  isReadByAgent isReadByContact ifHasDraft mergedToTargetId totalReplies createdTime lastUpdatedTime
  lastRepliedTime lastStatusChangedTime resolvedTime isInRecycleBin reopenedTime contactLanguage agentLanguage
  autoTranslationStatus responseTimeSpan replyingAgent responseCount resolvedTimeSpan firstResponseTimeSpan tagIds
  tags { id name }
  assignee { __typename ... on Agent { id name email } ... on Chatbot { id name } }
  departmentAssignee { id name }
  contactOrVisitor { __typename ... on Contact { id name email } ... on Visitor { id name } }
  createdBy { __typename ... on Contact { id name } ... on Visitor { id name } ... on Agent { id name } }
  lastRepliedBy { __typename ... on Contact { id name } ... on Visitor { id name } ... on Agent { id name } ... on Chatbot { id name } }
  messages(first: 20) { edges { node { id body time sentById sentByType isInternal } } }
  lastMessage { id body time }
  draft { body lastUpdatedTime }
  noteMentions { id noteId agentId }
  eventLogs { id type time }
} }`;

const CREATE = `mutation($in: CreateTicketInput!) { createTicket(input: $in) { id status totalReplies lastMessageId } }`;
const body64 = (text) => `data:text/html;base64,${Buffer.from(`<p>${text}</p>`).toString('base64')}`;

const UNREAD = `query($views: [UUID!]!) { unreadCount(viewIds: $views) { allCount unreadCounts { viewId unreadCount } } }`;
const SEARCH = `query($k: String!) { tickets(first: 50, filter: { keywords: $k }) { edges { node { id subject status lastUpdatedTime } } } }`;

// Each scenario: how to prepare (with a running server), and what to send and expect.
const scenarios = {
  1: {
    name: 'inbox: tickets(first: 50)',
    request: () => ({ path: '/graphql', body: JSON.stringify({ query: INBOX }) }),
    check: (b) => !b.includes('"errors"') && count(b, '"subject"') === 50 && b.includes('"lastMessage":{'),
  },
  2: {
    name: 'inbox via REST ?include=',
    request: () => ({
      method: 'GET',
      path: '/v4/ticketing/tickets?pageSize=50&include=ticketingTag,assignee,contactOrVisitor,lastMessage',
    }),
    check: (b) => b.startsWith('{"tickets":[') && count(b, '"subject"') === 50 && b.includes('"lastMessage":{'),
  },
  3: {
    name: 'one ticket, every relation',
    async prepare(base, token) {
      // A ticket with a draft and a mention, so every relation has rows to load.
      let after = null;
      for (let i = 0; i < 40; i++) {
        const d = await gql(base, token, `query($after: String) { tickets(first: 100, after: $after) { edges { node { id ifHasDraft noteMentions { id } } } pageInfo { endCursor } } }`, { after });
        const hit = d.tickets.edges.find((e) => e.node.ifHasDraft && e.node.noteMentions.length > 0);
        if (hit) return { id: hit.node.id };
        after = d.tickets.pageInfo.endCursor;
      }
      throw new Error('no ticket with a draft and a mention');
    },
    request: (s) => ({ path: '/graphql', body: JSON.stringify({ query: FULL_TICKET, variables: { id: s.id } }) }),
    check: (b) => !b.includes('"errors"') && b.includes('"draft":{') && b.includes('"noteMentions":[{') && b.includes('"eventLogs":['),
  },
  // Scenario 3's latency when the server is not loaded: one connection, one request at a time.
  '3s': {
    name: 'one ticket, every relation, 1 connection',
    connections: 1,
    prepare: (...a) => scenarios[3].prepare(...a),
    request: (s) => scenarios[3].request(s),
    check: (b) => scenarios[3].check(b),
  },
  4: {
    name: 'createTicket, two messages',
    write: true,
    async prepare(base, token) {
      const d = await gql(base, token, `{ contacts(first: 1) { edges { node { id } } } }`);
      return { contact: d.contacts.edges[0].node.id };
    },
    request: (s) => ({
      path: '/graphql',
      body: JSON.stringify({
        query: CREATE,
        variables: {
          in: {
            subject: 'Bench: parcel missing',
            channelId: 'email',
            contactOrVisitorId: s.contact,
            contactOrVisitorType: 'CONTACT',
            messages: [
              { body: body64('My parcel never arrived, order 4411'), sentById: s.contact, sentByType: 'CONTACT' },
              { body: body64('Sorry to hear that, checking with the courier'), sentByType: 'AGENT' },
            ],
          },
        },
      }),
    }),
    check: (b) => !b.includes('"errors"') && b.includes('"totalReplies":2'),
  },
  5: {
    name: 'unreadCount, five views',
    async prepare(base, token) {
      const d = await gql(base, token, `{ views { id } }`);
      return { views: d.views.slice(0, 5).map((v) => v.id) };
    },
    request: (s) => ({ path: '/graphql', body: JSON.stringify({ query: UNREAD, variables: { views: s.views } }) }),
    check: (b) => !b.includes('"errors"') && count(b, '"viewId"') === 5,
  },
  6: {
    name: 'keywords search',
    request: () => ({ path: '/graphql', body: JSON.stringify({ query: SEARCH, variables: { k: 'refund parc' } }) }),
    check: (b) => !b.includes('"errors"') && b.includes('"edges":[{'),
  },
  7: {
    name: 'inbox page 50,000 rows in',
    async prepare(base, token) {
      // 50,000 rows in; a smaller site (SQLite's default 10,000 tickets) is paged to its middle.
      const d0 = await gql(base, token, `{ tickets(first: 1) { totalCount } }`);
      const total = d0.tickets.totalCount;
      const depth = total >= 50_100 ? 50_000 : Math.floor(total / 200) * 100;
      if (depth < 100) throw new Error('fewer than 200 tickets: seed more');
      this.name = `inbox page ${depth.toLocaleString('en-US')} rows in`;
      let after = null;
      for (let seen = 0; seen < depth; seen += 100) {
        const d = await gql(base, token, `query($after: String) { tickets(first: 100, after: $after) { pageInfo { endCursor hasNextPage } } }`, { after });
        if (!d.tickets.pageInfo.hasNextPage) throw new Error(`fewer than ${seen + 100} tickets: seed more`);
        after = d.tickets.pageInfo.endCursor;
      }
      return { after };
    },
    request: (s) => ({ path: '/graphql', body: JSON.stringify({ query: INBOX, variables: { after: s.after } }) }),
    check: (b) => !b.includes('"errors"') && count(b, '"subject"') === 50,
  },
};

function count(haystack, needle) {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

// CPU seconds (user + system) used so far by process `pid`, and by PostgreSQL: every process
// called postgres (on this machine it serves only the benchmark), plus what the postmaster's
// exited children used (backends that closed during the run).
const TICK = 100; // USER_HZ on Linux
function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    return { comm, ppid: f[1], own: (f[11] + f[12]) / TICK, children: (f[13] + f[14]) / TICK };
  } catch {
    return null;
  }
}
function cpuSeconds(pid) {
  return stat(pid)?.own ?? 0;
}
function postgresCpuSeconds() {
  const all = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(d);
    if (s?.comm === 'postgres') all.set(Number(d), s);
  }
  let total = 0;
  for (const s of all.values()) total += s.own + (all.has(s.ppid) ? 0 : s.children);
  return total;
}
// Exact quantiles (autocannon's histogram has whole milliseconds only).
function quantile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

// Runs autocannon with one request shape; every response body goes through `check`. Returns
// autocannon's result, the bad responses, and the latency of each good one in ms (exact).
async function load(base, headers, req, check, duration, connections = CONNECTIONS) {
  let bad = 0;
  let firstBad = null;
  const latencies = [];
  const tracker = autocannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        method: req.method ?? 'POST',
        path: req.path,
        headers: { ...headers, ...(req.body ? { 'content-type': 'application/json' } : {}) },
        body: req.body,
        onResponse: (status, body) => {
          if (status >= 300 || !check(body)) {
            bad++;
            firstBad ??= `${status} ${String(body).slice(0, 300)}`;
          }
        },
      },
    ],
  });
  tracker.on('response', (_client, status, _bytes, ms) => {
    if (status < 300) latencies.push(ms);
  });
  const result = await tracker;
  latencies.sort((a, b) => a - b);
  return { result, bad, firstBad, latencies };
}

// Loads like `load`, and adds the server's and PostgreSQL's CPU milliseconds per request.
async function measure(pid, base, headers, req, check, duration, connections) {
  // The load generator's own CPU too: it shares the two cores with the servers, so what it
  // spends per request is throughput neither server can have.
  const own = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const cpu = () => [cpuSeconds(pid), postgresCpuSeconds(), own()];
  const [s0, p0, l0] = cpu();
  const out = await load(base, headers, req, check, duration, connections);
  const [s1, p1, l1] = cpu();
  const done = out.result.requests.total;
  const per = (a, b) => (done ? ((b - a) * 1000) / done : null);
  return { ...out, serverMs: per(s0, s1), pgMs: per(p0, p1), loadMs: per(l0, l1) };
}

async function runOne(id) {
  const sc = scenarios[id];
  const { child, base } = await startDeskgraph();
  try {
    const token = sc.write ? args['write-token'] : args.token;
    const state = sc.prepare ? await sc.prepare(base, token) : {};
    const req = sc.request(state);
    const headers = { authorization: `Bearer ${token}` };
    const conns = sc.connections ?? CONNECTIONS;
    await load(base, headers, req, sc.check, WARMUP, conns);
    const before = await statements(base);
    const { result, bad, firstBad, latencies, serverMs, pgMs, loadMs } = await measure(child.pid, base, headers, req, sc.check, DURATION, conns);
    const after = await statements(base);
    const done = result.requests.total;
    return {
      id,
      name: sc.name,
      rps: result.requests.average,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      serverMs,
      pgMs,
      loadMs,
      stmts: before === null || after === null || done === 0 ? null : (after - before) / done,
      rss: peakRss(child.pid),
      bad: bad + result.errors + result.timeouts,
      firstBad,
      done,
    };
  } finally {
    await stop(child);
  }
}

// PostGraphile 4 on the same database, asked the closest equivalent of scenario 1.
async function runPeer() {
  const port = await freePort();
  const bin = new URL('./node_modules/.bin/postgraphile', import.meta.url).pathname;
  const child = spawn(
    bin,
    ['--connection', args.db, '--schema', 'public', '--host', '127.0.0.1', '--port', String(port),
      '--disable-query-log', '--max-pool-size', '16', '--no-ignore-rbac', '--disable-graphiql'],
    { cwd: new URL('.', import.meta.url).pathname, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${base}/graphql`, child);
    const query = `query($site: UUID!) { allTickets(first: 50, orderBy: [LAST_UPDATED_TIME_DESC, ID_DESC], condition: { siteId: $site }) { nodes {
      id subject status priority createdTime lastUpdatedTime lastRepliedTime assigneeId assigneeType contactOrVisitorId contactOrVisitorType
      ticketTagsBySiteIdAndTicketId { nodes { tagBySiteIdAndTagId { id name } } }
      messagesBySiteIdAndTicketId(last: 1, orderBy: [TIME_ASC]) { nodes { id body time sentByType } }
    } } }`;
    const body = JSON.stringify({ query, variables: { site: args.site } });
    const probe = await (await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    if (probe.includes('"errors"')) throw new Error(`PostGraphile query failed: ${probe.slice(0, 500)}`);
    const check = (b) => !b.includes('"errors"') && count(b, '"subject"') === 50;
    await load(base, {}, { path: '/graphql', body }, check, WARMUP);
    const { result, bad, firstBad, latencies, serverMs, pgMs, loadMs } = await measure(child.pid, base, {}, { path: '/graphql', body }, check, DURATION, CONNECTIONS);
    return {
      id: 'P',
      name: 'PostGraphile 4: closest to 1',
      rps: result.requests.average,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      serverMs,
      pgMs,
      loadMs,
      stmts: null,
      rss: peakRss(child.pid),
      bad: bad + result.errors + result.timeouts,
      firstBad,
      done: result.requests.total,
    };
  } finally {
    await stop(child);
  }
}

const rows = [];
for (const id of wanted) {
  process.stderr.write(`scenario ${id}: ${scenarios[id].name}\n`);
  rows.push(await runOne(id));
}
if (args.peer === 'true') {
  process.stderr.write('peer: PostGraphile 4\n');
  rows.push(await runPeer());
}

const fmt = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));
const s1 = rows.find((r) => r.id === '1');
const peer = rows.find((r) => r.id === 'P');
console.log(`\n${args.label ?? ''}: ${CONNECTIONS} connections, ${DURATION} s per scenario (after ${WARMUP} s warm-up), fresh server per scenario`);
console.log('| # | scenario | req/s | p50 ms | p99 ms | SQL/req | server CPU ms/req | PG CPU ms/req | load CPU ms/req | peak RSS MB | bad bodies |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.id} | ${r.name} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.stmts, 2)} | ${fmt(r.serverMs, 2)} | ${fmt(r.pgMs, 2)} | ${fmt(r.loadMs, 2)} | ${fmt(r.rss, 1)} | ${r.bad}/${r.done} |`);
}
if (s1 && peer) console.log(`\nscenario 1 / PostGraphile throughput: ${(s1.rps / peer.rps).toFixed(2)}x`);
const s2 = rows.find((r) => r.id === '2');
if (s1 && s2) console.log(`scenario 2 / scenario 1 throughput: ${(s2.rps / s1.rps).toFixed(2)}x`);
const s7 = rows.find((r) => r.id === '7');
if (s1 && s7) console.log(`scenario 7 cost / scenario 1 cost (inverse throughput): ${(s1.rps / s7.rps).toFixed(2)}x`);
for (const r of rows) if (r.firstBad) console.error(`scenario ${r.id}: first bad response: ${r.firstBad}`);
if (args.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(args.json, JSON.stringify(rows, null, 2));
}
process.exit(rows.some((r) => r.bad > 0 || r.done === 0) ? 1 : 0);
