// Measures the architecture rules of issue 15 over apps/ and libs/ (tests, migrations and the
// excluded projects left out): SQL outside `*.repository.ts`, classes over 400 lines, functions
// over 80 lines. `node tools/ts-run.js tools/arch/measure.ts [--exclude dir,dir] [--check]`
// prints each offender and the counts. The default leaves out libs/policy, whose planners mirror
// Pacemaker's functions one for one. With --check (run by `npm test`'s lint tier) it exits 1 when
// a class or function is over its size and not in ALLOWED below, or SQL is outside a repository.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '../..');
const argExclude = process.argv.indexOf('--exclude');
const excluded = (argExclude > 0 ? process.argv[argExclude + 1] : 'libs/policy').split(',').filter(Boolean);
const MAX_CLASS = 400;
const MAX_FUNCTION = 80;
const check = process.argv.includes('--check');
// Exceptions to the sizes, `file:name` → reason: none today; add one only with a reason.
const ALLOWED: Record<string, string> = {};
// The infrastructure libraries own their own tables and locks (outbox, processed messages,
// advisory locks): they are the repository layer every app shares (ADR 12, docs/architecture.md).
const SQL_OWNERS = ['libs/persistence/', 'libs/bus/'];
const SQL =
  /^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\S+(\s+(AS\s+)?\w+)?\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS|LOCK\s+TABLE)\b/i;

function files(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const rel = path.relative(root, p);
    if (e.isDirectory()) {
      if (['node_modules', 'test', 'migrations', 'dist'].includes(e.name)) continue;
      if (excluded.some((x) => rel === x || rel.startsWith(x + '/'))) continue;
      files(p, out);
    } else if (e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec|bench)\.ts$/.test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

const sql: string[] = [];
const classes: string[] = [];
const functions: string[] = [];
const allowedList: string[] = [];

function lines(sf: ts.SourceFile, n: ts.Node): number {
  const a = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
  const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
  return b - a + 1;
}

function nameOf(n: ts.Node): string {
  const named = n as { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  if (ts.isVariableDeclaration(n.parent) && ts.isIdentifier(n.parent.name)) return n.parent.name.text;
  if (ts.isPropertyAssignment(n.parent) || ts.isPropertyDeclaration(n.parent)) return n.parent.name.getText();
  return '<anonymous>';
}

for (const dir of ['apps', 'libs']) {
  for (const file of files(path.join(root, dir))) {
    const rel = path.relative(root, file);
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const isRepo = /\.repository\.ts$/.test(file) || SQL_OWNERS.some((o) => rel.startsWith(o));
    const visit = (n: ts.Node): void => {
      const at = () => `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
      if (
        !isRepo &&
        (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n))
      ) {
        if (SQL.test(n.text)) sql.push(`${at()} ${n.text.trim().split(/\s+/).slice(0, 4).join(' ')}`);
      }
      if (ts.isClassDeclaration(n) || ts.isClassExpression(n)) {
        const l = lines(sf, n);
        const name = n.name?.text ?? '<anonymous>';
        if (l > MAX_CLASS)
          (ALLOWED[`${rel}:${name}`] ? allowedList : classes).push(`${at()} class ${name}: ${l} lines`);
      }
      if (
        ts.isFunctionDeclaration(n) ||
        ts.isMethodDeclaration(n) ||
        ts.isFunctionExpression(n) ||
        ts.isArrowFunction(n) ||
        ts.isConstructorDeclaration(n) ||
        ts.isGetAccessor(n)
      ) {
        const l = lines(sf, n);
        if (l > MAX_FUNCTION)
          (ALLOWED[`${rel}:${nameOf(n)}`] ? allowedList : functions).push(`${at()} ${nameOf(n)}: ${l} lines`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
}

const report = (title: string, rows: string[]) => {
  console.log(`${title}: ${rows.length}`);
  for (const r of rows) console.log(`  ${r}`);
};
console.log(`excluded: ${excluded.join(', ') || '(none)'}`);
report('SQL outside *.repository.ts', sql);
report(`classes over ${MAX_CLASS} lines`, classes);
report(`functions over ${MAX_FUNCTION} lines`, functions);
report('allowed (see ALLOWED)', allowedList);
if (check && classes.length + functions.length > 0) {
  console.error(
    `classes over ${MAX_CLASS} or functions over ${MAX_FUNCTION} lines: split them along a real seam`,
  );
}
if (check && sql.length > 0) {
  console.error("SQL outside *.repository.ts: move it into the feature's repository (ADR 7)");
}
if (check && classes.length + functions.length + sql.length > 0) process.exit(1);
