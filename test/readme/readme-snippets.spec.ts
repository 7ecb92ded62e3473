import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The README's TypeScript must run as written. Every ```ts block of the repository's top-level markdown files is
 * written as its own file into .readme-snippets/ (git-ignored, inside the repository so that `from 'nestjs-convoy'`
 * resolves to this package through package.json "exports", i.e. to dist/, which `npm test` builds first), and all
 * of them are type-checked in one run of the repository's tsc, fully (nodenext, strict, decorators). A block that
 * truly cannot be complete is marked ```ts-fragment, with a sentence nearby saying why; it is not compiled.
 *
 * The README is also the npm registry's page: its links to repository files must be absolute GitHub URLs (relative
 * links are dead there), and its #anchors must name headings.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, '.readme-snippets');
const repoBlob = 'https://github.com/nestjs-convoy/nestjs-convoy/blob/main/';
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

interface CodeBlock {
  file: string;
  /** 1-based line of the block's first code line in the markdown file. */
  line: number;
  lang: string;
  code: string;
}

/** Fenced code blocks (``` or ~~~, three or more, not indented into a list) of a markdown file. */
function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { fence: string; lang: string; line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    if (open) {
      if (text.trimEnd() === open.fence || (text.startsWith(open.fence) && /^[`~]*\s*$/.test(text))) {
        blocks.push({ file, line: open.line, lang: open.lang, code: open.body.join('\n') + '\n' });
        open = undefined;
      } else {
        open.body.push(text);
      }
      return;
    }
    const fence = /^(`{3,}|~{3,})\s*([^\s`]*)/.exec(text);
    if (fence) open = { fence: fence[1]!, lang: fence[2]!.toLowerCase(), line: i + 2, body: [] };
  });
  if (open) throw new Error(`${file}:${open.line - 1}: a code block is never closed`);
  return blocks;
}

const markdownFiles = readdirSync(root)
  .filter((name) => name.endsWith('.md'))
  .sort();
const blocks = markdownFiles.flatMap(codeBlocks);
const typescript = blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript');

/** What a snippet may import: this package's public entry points, Node's built-ins, and packages the repository installs. */
function allowedImport(specifier: string): boolean {
  if (
    specifier === pkg.name ||
    Object.keys(pkg.exports).some((key) => key !== './package.json' && specifier === `${pkg.name}${key.slice(1)}`)
  )
    return true;
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return true;
  if (specifier.startsWith('.') || specifier.startsWith('/')) return false;
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
  return name !== pkg.name && (name in (pkg.devDependencies ?? {}) || name in (pkg.dependencies ?? {}));
}

/** Module specifiers of import declarations, `export … from` and `import()`. */
function importsOf(code: string): string[] {
  const patterns = [
    /^\s*import\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, "-1", "-2"… for repeats. */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (/^(`{3,}|~{3,})/.test(line)) inCode = !inCode;
    const heading = inCode ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Markdown links and images outside code (blocks and spans). */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('README', () => {
  it('has TypeScript snippets, each a complete module importing only public entry points and installed packages', () => {
    expect(typescript.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const block of typescript) {
      const where = `${block.file}:${block.line}`;
      if (!/^\s*(import|export)\s/m.test(block.code))
        problems.push(`${where}: not a module (no import or export), so not a complete file`);
      for (const specifier of importsOf(block.code)) {
        if (!allowedImport(specifier))
          problems.push(
            `${where}: imports '${specifier}', which is neither a public entry point of ${pkg.name} nor a package the repository installs`,
          );
      }
    }
    expect(problems).toEqual([]);
  });

  it('type-checks every ```ts snippet with the repository TypeScript (nodenext, strict, decorators)', () => {
    if (!existsSync(join(root, 'dist/esm/index.d.ts')) || !existsSync(join(root, 'dist/cjs/index.d.ts'))) {
      throw new Error(
        'dist/ is not built: run `npm run build` (`npm test` runs it first), so that the snippets resolve nestjs-convoy',
      );
    }
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const files = new Map<string, CodeBlock>();
    for (const block of typescript) {
      const name = `${block.file.replace(/\.md$/i, '')}-L${block.line}.ts`;
      writeFileSync(join(outDir, name), block.code);
      files.set(name, block);
    }
    writeFileSync(
      join(outDir, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            skipLibCheck: true,
            types: ['node', 'jest'],
            noEmit: true,
          },
          files: [...files.keys()],
        },
        null,
        2,
      ),
    );

    let output = '';
    try {
      execFileSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    } catch (error) {
      const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
      output = `${stdout ?? ''}${stderr ?? ''}`.trim() || message;
    }

    // file(line,col): error TSnnnn: message  →  README.md:<line in the markdown>:<col> (…/README-L<n>.ts:line:col) TSnnnn: message
    const errors = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const m = /^(?:.*[\\/])?([^\\/(]+\.ts)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
        const block = m ? files.get(m[1]!) : undefined;
        if (!m || !block) return line;
        const [, name, row, col, code, text] = m;
        return `${block.file}:${block.line + Number(row) - 1}:${col} (.readme-snippets/${name}:${row}:${col}) ${code}: ${text}`;
      });
    expect(errors).toEqual([]);
  }, 180_000);

  it('links to repository files by absolute GitHub URLs of files that exist (they work on the npm page too), and to anchors that exist', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const anchors = headingAnchors(readme);
    const problems: string[] = [];
    for (const link of linksOf(readme)) {
      if (link.startsWith('#')) {
        if (!anchors.has(link.slice(1))) problems.push(`${link}: no heading has this anchor`);
      } else if (link.startsWith(repoBlob)) {
        const path = link.slice(repoBlob.length).replace(/#.*$/, '');
        if (!existsSync(join(root, path))) problems.push(`${link}: ${path} does not exist in the repository`);
      } else if (!/^(https?:|mailto:)/.test(link)) {
        problems.push(`${link}: a relative link, dead on the npm page; use ${repoBlob}<path>`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names in its error table only errors the package exports (from the root or a subpath)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('\n## Errors'),
      readme.indexOf('\n## ', readme.indexOf('\n## Errors') + 1),
    );
    const named = [...section.matchAll(/^\| `(\w+Error)` \|/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    const entryPoints = Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => `${pkg.name}${key.slice(1)}`);
    const exported = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const entries = ${JSON.stringify(entryPoints)};
           const names = [];
           for (const entry of entries) names.push(...Object.keys(await import(entry)));
           console.log(JSON.stringify(names));`,
        ],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: '' },
        },
      ),
    ) as string[];
    expect(named.filter((name) => !exported.includes(name))).toEqual([]);
  });
});
