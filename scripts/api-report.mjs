#!/usr/bin/env node
// The public surface, as review sees it: every entry point of package.json `exports` with each export's name, kind
// and the first sentence of its doc comment, written to api-report.md (read from the sources through the TypeScript
// compiler API, so no build is needed).
//
//   node scripts/api-report.mjs            writes api-report.md
//   node scripts/api-report.mjs --check    fails (exit 1) when api-report.md differs from the code (prints the diff),
//                                          when the root has more than MAX_ROOT_EXPORTS exports, or when a root
//                                          export has no doc comment
//   --cwd <dir>                            the package folder (default: the current one), with its
//                                          tsconfig.build.json
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** The budget of the root entry point: what an application imports, not the engine's parts. */
export const MAX_ROOT_EXPORTS = 70;
const REPORT = 'api-report.md';

/** The report's text for the package in `cwd`, and the root's exports (to check them). */
export function buildReport(cwd) {
  const ts = createRequire(import.meta.url)('typescript');
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  const options = { ...compilerOptions(ts, cwd), noEmit: true };
  const entries = entryPoints(pkg, cwd, options);

  const program = ts.createProgram({ rootNames: entries.map((entry) => entry.file), options });
  const checker = program.getTypeChecker();

  const sections = entries.map((entry) => {
    const source = program.getSourceFile(entry.file);
    if (!source) throw new Error(`${entry.name}: ${relative(cwd, entry.file)} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    const symbols = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
    const exports = symbols.map((symbol) => describe(ts, checker, symbol));
    exports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ...entry, exports };
  });
  markTypeOnly(ts, cwd, options, program, sections);
  const root = sections.find((section) => section.key === '.')?.exports;

  const lines = [
    '# API report',
    '',
    '<!-- Written by `npm run api-report` from the sources; CI fails when it differs from the code. Do not edit. -->',
    '',
    'Every entry point of the package with each export: its kind and the first sentence of its doc comment.',
    `The root has ${root?.length ?? 0} exports (at most ${MAX_ROOT_EXPORTS}).`,
  ];
  for (const section of sections) {
    lines.push('', `## ${section.name} (${section.exports.length})`, '');
    for (const item of section.exports) {
      lines.push(`- \`${item.name}\` ${item.kind}${item.doc ? `: ${item.doc}` : ''}`);
    }
  }
  return { text: `${lines.join('\n')}\n`, root: root ?? [] };
}

/** What is wrong with the surface or the committed report; empty when all is well. */
export function checkReport(cwd) {
  const { text, root } = buildReport(cwd);
  const problems = [];
  if (root.length > MAX_ROOT_EXPORTS) {
    problems.push(
      `The root exports ${root.length} names, more than ${MAX_ROOT_EXPORTS}: move the ones an application does not import behind a subpath, or make them private.`,
    );
  }
  const undocumented = root.filter((item) => !item.doc).map((item) => item.name);
  if (undocumented.length > 0) {
    problems.push(`Root exports without a doc comment (say in one line what each is for): ${undocumented.join(', ')}.`);
  }
  const file = join(cwd, REPORT);
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (committed !== text) {
    problems.push(
      `${REPORT} differs from the code (run \`npm run api-report\` and commit the result):\n${diff(committed, text)}`,
    );
  }
  return problems;
}

/** The build's compiler options (tsconfig.build.json): its rootDir and outDir map each entry's .d.ts to its source. */
function compilerOptions(ts, cwd) {
  const fail = (diagnostic) => {
    throw new Error(`tsconfig.build.json: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
  };
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail };
  const parsed = ts.getParsedCommandLineOfConfigFile(join(cwd, 'tsconfig.build.json'), {}, host);
  if (!parsed.options.rootDir || !parsed.options.outDir)
    throw new Error('tsconfig.build.json needs rootDir and outDir');
  return parsed.options;
}

/** package.json `exports` keys with the source file behind each (its `import` types, mapped from outDir to rootDir). */
function entryPoints(pkg, cwd, options) {
  const outDir = relative(cwd, options.outDir);
  const rootDir = relative(cwd, options.rootDir);
  return Object.entries(pkg.exports ?? {})
    .filter(([key, target]) => typeof target === 'object' && key !== './package.json')
    .map(([key, target], index) => {
      const types = target.import?.types ?? target.types;
      if (typeof types !== 'string') throw new Error(`exports["${key}"] has no types`);
      const declaration = posix.normalize(types);
      const prefix = `${outDir.split('\\').join('/')}/`;
      if (!declaration.startsWith(prefix) || !declaration.endsWith('.d.ts')) {
        throw new Error(`exports["${key}"] types ${types} is not a .d.ts under ${outDir}`);
      }
      const file = resolve(cwd, rootDir, `${declaration.slice(prefix.length, -'.d.ts'.length)}.ts`);
      if (!existsSync(file)) throw new Error(`exports["${key}"]: no source ${relative(cwd, file)}`);
      return { key, index, name: key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`, file };
    });
}

/** An export's name, kind (from what it is declared as) and the first sentence of its doc comment. */
function describe(ts, checker, symbol) {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const declarations = target.declarations ?? [];
  const kinds = [];
  const add = (kind) => kinds.includes(kind) || kinds.push(kind);
  for (const declaration of declarations) {
    if (ts.isClassDeclaration(declaration)) add('class');
    else if (ts.isFunctionDeclaration(declaration)) add('function');
    else if (ts.isInterfaceDeclaration(declaration)) add('interface');
    else if (ts.isTypeAliasDeclaration(declaration)) add('type');
    else if (ts.isEnumDeclaration(declaration)) add('enum');
    else if (ts.isModuleDeclaration(declaration)) add('namespace');
    else if (ts.isVariableDeclaration(declaration)) {
      add(declaration.parent.flags & ts.NodeFlags.Const ? 'const' : 'let');
    } else add(ts.SyntaxKind[declaration.kind]);
  }
  const doc = ts.displayPartsToString(target.getDocumentationComment(checker));
  const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
  const deprecated = target.getJsDocTags(checker).some((tag) => tag.name === 'deprecated');
  const kind = `${kinds.join(' + ') || 'unknown'}${deprecated ? ' (deprecated)' : ''}`;
  return { name: symbol.getName(), kind, doc: firstSentence(doc), isValue };
}

/**
 * Marks each value export that an entry exports with `export type` (kind "class (type only)" and so on): one probe
 * file per entry imports its value exports by name and uses them, and TypeScript refuses as a value whatever was
 * exported with `export type`.
 */
function markTypeOnly(ts, cwd, options, program, sections) {
  const probes = new Map();
  for (const section of sections) {
    const values = section.exports.filter((item) => item.isValue);
    if (values.length === 0) continue;
    const names = values.map((item) => item.name).join(', ');
    const specifier = `./${relative(cwd, section.file).split('\\').join('/').replace(/\.ts$/, '.js')}`;
    const text = `import { ${names} } from '${specifier}';\nexport const used = [${names}];\n`;
    probes.set(resolve(cwd, `__api_report_probe_${section.index}.ts`), { text, values });
  }
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const probe = probes.get(resolve(fileName));
    return probe
      ? ts.createSourceFile(fileName, probe.text, languageVersion, true)
      : getSourceFile(fileName, languageVersion, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => probes.has(resolve(fileName)) || fileExists(fileName);
  const probeProgram = ts.createProgram({ rootNames: [...probes.keys()], options, host, oldProgram: program });
  for (const [file, { text, values }] of probes) {
    // 1361/1362: "'X' cannot be used as a value because it was imported/exported using 'import type'/'export type'".
    for (const diagnostic of probeProgram.getSemanticDiagnostics(probeProgram.getSourceFile(file))) {
      if (diagnostic.code !== 1361 && diagnostic.code !== 1362) continue;
      const name = text.slice(diagnostic.start, diagnostic.start + diagnostic.length);
      const item = values.find((candidate) => candidate.name === name);
      if (item && !item.kind.endsWith('(type only)')) item.kind += ' (type only)';
    }
  }
}

/** The first sentence of a doc comment, on one line ("e.g." and "i.e." do not end it). */
function firstSentence(doc) {
  const text = doc
    .replace(/\{@link(?:code|plain)?\s+([^\s|}]+)(?:[\s|]+([^}]*))?\}/g, (_, name, label) => label?.trim() || name)
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return '';
  const match = /^.*?(?<!\be\.g|\bi\.e|\betc)[.!?](?=\s|$)/.exec(text);
  return (match ? match[0] : text).replace(/\|/g, '\\|');
}

/** A line diff (longest common subsequence): `-` lines only in the committed file, `+` lines only in the new one. */
function diff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`- ${a[i++]}`);
    } else {
      out.push(`+ ${b[j++]}`);
    }
  }
  return out.join('\n');
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const { values } = parseArgs({ options: { check: { type: 'boolean' }, cwd: { type: 'string' } } });
  const cwd = resolve(values.cwd ?? '.');
  if (values.check) {
    const problems = checkReport(cwd);
    for (const problem of problems) console.error(problem);
    if (problems.length > 0) process.exit(1);
    console.log(`${REPORT} matches the code.`);
  } else {
    const { text, root } = buildReport(cwd);
    writeFileSync(join(cwd, REPORT), text);
    console.log(`Wrote ${REPORT} (root: ${root.length} exports).`);
  }
}
