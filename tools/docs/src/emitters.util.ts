// Who sends and who receives each message type, found by reading the code (TypeScript AST of every
// non-test file under apps/*/src and libs/*/src): a reference to a message type — `X.type` of a
// definition exported by @nephele/contracts, an exported string constant equal to a type, or the
// type as a string literal — is a *receive* when it is a subscription binding, an argument of
// `respond(…)`, a `case` label, an `===`/`!==` operand or a computed key of a dispatch table, and a
// *send* anywhere else (createEvent, publish helpers); the pattern of an `@EventPattern(…)` or
// `@MessagePattern(…)` handler is a receive too, and a service naming a queue of `Topology.queues`
// receives every type that queue carries (libs/contracts/src/topology.ts). A template literal starting with a family's
// prefix (`nephele.audit.${…}`) counts for that family (`nephele.audit.*`). Bindings with
// wildcards (`#`, `*`) receive every type they match.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface Usage {
  senders: Set<string>;
  receivers: Set<string>;
}

/** `pattern` (AMQP topic: `*` one word, `#` zero or more) matches `key`. */
export function topicMatch(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const go = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return go(i + 1, j) || (j < k.length && go(i, j + 1));
    if (j === k.length) return false;
    return (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'test' && e !== 'node_modules') out.push(...sourceFiles(p));
    } else if (e.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec|d)\.ts$/.test(e)) out.push(p);
  }
  return out;
}

/** The component a file belongs to: the app name, or `libs/<name>`. */
function ownerOf(root: string, file: string): string {
  const [top, name] = path.relative(root, file).split(path.sep);
  return top === 'apps' ? name : `libs/${name}`;
}

/** The first argument of a bus-handler decorator: `@EventPattern(…)`, `@MessagePattern(…)`. */
function isHandlerPattern(call: ts.CallExpression): boolean {
  return ts.isDecorator(call.parent) && /(^|\.)(EventPattern|MessagePattern)$/.test(call.expression.getText());
}

/** Inside a subscription's binding list (`bindings: [...]`, `respond(queue, [...])`) or a handler's pattern. */
function inBindings(node: ts.Node): boolean {
  if (ts.isCallExpression(node.parent) && isHandlerPattern(node.parent) && node.parent.arguments[0] === node)
    return true;
  const list = node.parent;
  if (!list || !ts.isArrayLiteralExpression(list)) return false;
  const p = list.parent;
  if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'bindings') return true;
  return ts.isCallExpression(p) && /(^|\.)respond$/.test(p.expression.getText());
}

function receiving(node: ts.Node): boolean {
  let n: ts.Node = node;
  for (let depth = 0; n.parent && depth < 6; depth++) {
    const p: ts.Node = n.parent;
    if (ts.isCaseClause(p)) return true;
    if (ts.isComputedPropertyName(p)) return true;
    if (
      ts.isBinaryExpression(p) &&
      [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(
        p.operatorToken.kind,
      )
    )
      return true;
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'bindings') return true;
    if (ts.isCallExpression(p)) {
      const callee = p.expression.getText();
      return isHandlerPattern(p) || /(^|\.)(respond|subscribe)$/.test(callee);
    }
    if (ts.isBlock(p) || ts.isSourceFile(p)) return false;
    n = p;
  }
  return false;
}

/**
 * The types each queue of `Topology.queues` carries (its `carries: [...]` in
 * libs/contracts/src/topology.ts): `X.type` of a definition, or a type or topic pattern as a string.
 */
function queueCarries(root: string, known: Set<string>, definitions: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const file = path.join(root, 'libs', 'contracts', 'src', 'topology.ts');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const typeOf = (e: ts.Expression): string | undefined => {
    if (ts.isPropertyAccessExpression(e) && e.name.text === 'type' && ts.isIdentifier(e.expression))
      return definitions.get(e.expression.text);
    if (ts.isStringLiteral(e) && (known.has(e.text) || /[#*]/.test(e.text))) return e.text;
    return undefined;
  };
  const carriesOf = (n: ts.Node): string[] => {
    const found: string[] = [];
    const walk = (x: ts.Node): void => {
      if (
        ts.isPropertyAssignment(x) &&
        ts.isIdentifier(x.name) &&
        x.name.text === 'carries' &&
        ts.isArrayLiteralExpression(x.initializer)
      ) {
        for (const e of x.initializer.elements) {
          const t = typeOf(e);
          if (t) found.push(t);
        }
      }
      ts.forEachChild(x, walk);
    };
    walk(n);
    return found;
  };
  const walk = (n: ts.Node): void => {
    if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      n.name.text === 'queues' &&
      n.initializer
    ) {
      let init: ts.Expression = n.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init))
        init = init.expression;
      if (!ts.isObjectLiteralExpression(init)) return;
      for (const p of init.properties)
        if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) out.set(p.name.text, carriesOf(p.initializer));
      return;
    }
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return out;
}

/**
 * Reads the code under `root` and returns, per message type, its senders and receivers.
 * `constants` maps an exported name of @nephele/contracts to the type it stands for (a definition
 * used as `X.type`, or a string constant used bare).
 */
export function findUsage(
  root: string,
  types: string[],
  constants: { definitions: Map<string, string>; strings: Map<string, string> },
): Map<string, Usage> {
  const usage = new Map<string, Usage>(types.map((t) => [t, { senders: new Set(), receivers: new Set() }]));
  const known = new Set(types);
  const families = types.filter((t) => t.endsWith('.*'));
  const patterns: { pattern: string; owner: string }[] = [];
  const files = ['apps', 'libs']
    .flatMap((top) =>
      readdirSync(path.join(root, top))
        .sort()
        .map((d) => path.join(root, top, d, 'src')),
    )
    .filter((d) => {
      try {
        return statSync(d).isDirectory() && !d.includes(`${path.sep}contracts${path.sep}`);
      } catch {
        return false;
      }
    })
    .flatMap(sourceFiles);
  // Constants naming a type anywhere in the code (`const TOKEN_INTROSPECT = 'nephele.config…'`).
  const strings = new Map(constants.strings);
  const parsed = files.map((file) => ({
    file,
    sf: ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true),
  }));
  for (const { sf } of parsed) {
    for (const st of sf.statements) {
      if (!ts.isVariableStatement(st)) continue;
      for (const d of st.declarationList.declarations) {
        if (
          ts.isIdentifier(d.name) &&
          d.initializer &&
          ts.isStringLiteral(d.initializer) &&
          known.has(d.initializer.text)
        )
          strings.set(d.name.text, d.initializer.text);
      }
    }
  }
  const carried = queueCarries(root, known, constants.definitions);
  for (const { file, sf } of parsed) {
    const owner = ownerOf(root, file);
    const note = (type: string, node: ts.Node) => {
      const u = usage.get(type);
      if (!u) return;
      (receiving(node) ? u.receivers : u.senders).add(owner);
    };
    const visit = (node: ts.Node): void => {
      const queue = ts.isPropertyAccessExpression(node) && node.expression.getText() === 'Topology.queues';
      if (queue && carried.has(node.name.text)) {
        // A service that consumes a Topology queue receives every type the queue carries.
        for (const t of carried.get(node.name.text)!) {
          if (usage.has(t)) usage.get(t)!.receivers.add(owner);
          else patterns.push({ pattern: t, owner });
        }
      } else if (
        ts.isPropertyAccessExpression(node) &&
        node.name.text === 'type' &&
        ts.isIdentifier(node.expression) &&
        constants.definitions.has(node.expression.text)
      ) {
        note(constants.definitions.get(node.expression.text)!, node);
      } else if (
        ts.isIdentifier(node) &&
        strings.has(node.text) &&
        !ts.isImportSpecifier(node.parent) &&
        !(ts.isVariableDeclaration(node.parent) && node.parent.name === node)
      ) {
        note(strings.get(node.text)!, node);
      } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
        if (known.has(node.text)) {
          if (!ts.isVariableDeclaration(node.parent)) note(node.text, node);
        } else if (/[#*]/.test(node.text) && inBindings(node) && /^[a-z#*][a-z0-9_.#*-]*$/.test(node.text))
          patterns.push({ pattern: node.text, owner });
      } else if (ts.isTemplateExpression(node)) {
        // `nephele.audit.${resource}.${action}`: a send of the family whose prefix it starts with.
        const family = families.find((f) => node.head.text.startsWith(f.slice(0, -1)));
        if (family) (receiving(node) ? usage.get(family)!.receivers : usage.get(family)!.senders).add(owner);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  for (const { pattern, owner } of patterns) {
    for (const t of types)
      if (topicMatch(pattern, t.replace(/\.\*$/, '.x'))) usage.get(t)!.receivers.add(owner);
  }
  return usage;
}
