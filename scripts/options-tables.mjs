// Renders README's option tables from the option tables themselves: names and defaults from the built tables
// (dist/esm/options/option-tables.js), the description from each entry's doc comment (first sentence), read from
// lib/options/option-tables.ts with the TypeScript API. Each table sits between `<!-- options:<group> -->` and
// `<!-- /options -->`. `node scripts/options-tables.mjs` writes them; `--check` fails when README has drifted.
// `--readme <file>` works on another file (the test uses it to prove that --check catches an edit).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const check = args.includes('--check');
const readmeAt = args.indexOf('--readme');
const readmePath = readmeAt >= 0 ? args[readmeAt + 1] : `${root}README.md`;

const tables = await import(pathToFileURL(`${root}dist/esm/options/option-tables.js`).href);
const docs = docComments(`${root}lib/options/option-tables.ts`);

/** `{ TABLE: { key: first sentence } }` of every exported object literal, spreads followed. */
function docComments(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const byTable = {};
  const literals = {};
  source.forEachChild((node) => {
    if (!ts.isVariableStatement(node)) return;
    for (const d of node.declarationList.declarations)
      if (ts.isIdentifier(d.name) && d.initializer && ts.isObjectLiteralExpression(d.initializer))
        literals[d.name.text] = d.initializer;
  });
  const read = (name) => {
    if (byTable[name]) return byTable[name];
    const out = {};
    for (const p of literals[name].properties) {
      if (ts.isSpreadAssignment(p)) Object.assign(out, read(p.expression.getText(source)));
      else if (p.name) out[p.name.getText(source)] = firstSentence(ts.getJSDocCommentsAndTags(p));
    }
    return (byTable[name] = out);
  };
  for (const name of Object.keys(literals)) read(name);
  return byTable;
}

function firstSentence(jsDocs) {
  const text = jsDocs
    .map((d) => (typeof d.comment === 'string' ? d.comment : ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const end = text.search(/(?<!\b(e\.g|i\.e))\.(\s|$)/);
  return (end < 0 ? text : text.slice(0, end + 1)).replace(/\|/g, '\\|');
}

const SETUPS = ['convoy', 'embedded', 'log', 'custom'].flatMap((transport) =>
  [false, true].map((durable) => ({ transport, durable })),
);

const version = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version;
const show = (value) =>
  value === undefined
    ? ''
    : typeof value === 'string'
      ? `\`'${value.replace(version, '<version>')}'\``
      : Array.isArray(value)
        ? `\`[${value.map((v) => JSON.stringify(v)).join(', ')}]\``
        : `\`${String(value)}\``;

function defaultOf(option) {
  const d = option.default;
  if (typeof d !== 'function') return show(d);
  const [embedded, other] = [SETUPS[2], SETUPS[0]].map((s) => d(s));
  const same = JSON.stringify(embedded) === JSON.stringify(other);
  if (typeof other === 'object' && other !== null && !Array.isArray(other))
    return same
      ? `\`{ ${Object.entries(other)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')} }\``
      : 'per path: see retry';
  return same ? show(other) : `${show(embedded)} embedded, ${show(other)} others`;
}

/** Where the option has an effect, in words, from the setups its idleWhen rules out. */
function appliesOf(option) {
  if (!option.idleWhen) return '';
  const live = SETUPS.filter((s) => !option.idleWhen(s));
  const is = (pred) => live.length === SETUPS.filter(pred).length && live.every(pred);
  if (is((s) => s.durable)) return 'with storage';
  if (is((s) => !s.durable)) return 'without storage';
  if (is((s) => s.transport === 'embedded')) return 'embedded';
  if (is((s) => s.transport === 'convoy')) return 'Convoy';
  return live.map((s) => `${s.transport}${s.durable ? '+storage' : ''}`).join(', ');
}

function groupTable(prefix, table, tableName) {
  const rows = Object.entries(table).map(
    ([key, option]) =>
      `| \`${prefix}.${key}\` | ${defaultOf(option)} | ${appliesOf(option)} | ${docs[tableName][key] ?? ''} |`,
  );
  return ['| option | default | only | |', '|---|---|---|---|', ...rows].join('\n');
}

function retryTable() {
  const { handOver, endpoint, client } = tables.RETRY_DEFAULTS;
  const rows = Object.keys(tables.RETRY_OPTIONS).map(
    (key) =>
      `| \`${key}\` | ${show(handOver[key])} | ${show(endpoint[key])} | ${show(client[key])} | ${docs.RETRY_OPTIONS[key]} |`,
  );
  return [
    '| retry option | hand-over (`delivery.retry`: Convoy, log, yours) | endpoints (`delivery.retry`: embedded) | client (`convoy.retry`) | |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const rendered = {
  convoy: groupTable('convoy', tables.CONVOY_OPTIONS, 'CONVOY_OPTIONS'),
  delivery: groupTable('delivery', tables.DELIVERY_OPTIONS, 'DELIVERY_OPTIONS'),
  retry: retryTable(),
  embedded: groupTable('embedded', tables.EMBEDDED_OPTIONS, 'EMBEDDED_OPTIONS'),
  limits: groupTable('limits', tables.LIMITS_OPTIONS, 'LIMITS_OPTIONS'),
  retention: groupTable('retention', tables.RETENTION_OPTIONS, 'RETENTION_OPTIONS'),
  telemetry: groupTable('telemetry', tables.TELEMETRY_OPTIONS, 'TELEMETRY_OPTIONS'),
};

const readme = readFileSync(readmePath, 'utf8');
const missing = Object.keys(rendered).filter((name) => !readme.includes(`<!-- options:${name} -->`));
if (missing.length > 0) {
  console.error(`${readmePath}: no marker <!-- options:${missing.join(' -->, <!-- options:')} -->`);
  process.exit(1);
}
const updated = readme.replace(/<!-- options:(\w+) -->\n[\s\S]*?<!-- \/options -->/g, (whole, name) =>
  rendered[name] === undefined ? whole : `<!-- options:${name} -->\n${rendered[name]}\n<!-- /options -->`,
);
if (check) {
  if (updated !== readme) {
    console.error(
      `${readmePath}: the option tables differ from lib/options/option-tables.ts; run npm run docs:options`,
    );
    process.exit(1);
  }
  console.log('README option tables are up to date');
} else if (updated !== readme) {
  writeFileSync(readmePath, updated);
  console.log(`${readmePath}: option tables written`);
}
