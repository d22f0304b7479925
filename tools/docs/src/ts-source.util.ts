// Reads classes from TypeScript source with the compiler API (no code is run): each property's
// JSDoc, initializer and decorators. The env reference and the field descriptions of the other
// references come from here, so they say exactly what the code's comments say.
import { readFileSync } from 'node:fs';
import ts from 'typescript';

export interface DecoratorInfo {
  name: string;
  /** Arguments as source text. */
  args: string[];
  /** Arguments evaluated when they are literals (or consts of the same source set), else undefined. */
  values: unknown[];
}

export interface PropertyInfo {
  name: string;
  doc: string;
  optional: boolean;
  /** The declared type as written (`string`, `number`), or '' when inferred. */
  type: string;
  /** The initializer as source text, or undefined. */
  initializer?: string;
  /** The initializer's value when it is a literal (numbers with `_` separators included). */
  value?: unknown;
  decorators: DecoratorInfo[];
}

export interface ClassInfo {
  name: string;
  file: string;
  doc: string;
  extends?: string;
  properties: PropertyInfo[];
}

function jsDocOf(node: ts.Node): string {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  return docs
    .map((d) => (typeof d.comment === 'string' ? d.comment : (ts.getTextOfJSDocComment(d.comment) ?? '')))
    .join('\n')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** Evaluates literal expressions: strings, numbers, booleans, arrays, `as const`, known consts. */
export function literalValue(e: ts.Expression, consts: Map<string, unknown> = new Map()): unknown {
  if (ts.isAsExpression(e) || ts.isParenthesizedExpression(e) || ts.isSatisfiesExpression(e))
    return literalValue(e.expression, consts);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  if (ts.isNumericLiteral(e)) return Number(e.text.replace(/_/g, ''));
  if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken) {
    const v = literalValue(e.operand, consts);
    return typeof v === 'number' ? -v : undefined;
  }
  if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (e.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (ts.isIdentifier(e)) {
    if (e.text === 'undefined') return undefined;
    return consts.get(e.text);
  }
  if (ts.isArrayLiteralExpression(e)) {
    const items = e.elements.map((x) => literalValue(x, consts));
    return items.some((x) => x === undefined) ? undefined : items;
  }
  if (ts.isRegularExpressionLiteral(e)) return e.text;
  return undefined;
}

/** Every class (and interface) declared in `files`, with consts shared across the files for evaluation. */
export function readClasses(files: string[]): Map<string, ClassInfo> {
  const consts = new Map<string, unknown>();
  const sources = files.map((f) => ({
    file: f,
    sf: ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true),
  }));
  // Consts first (a class may use one declared in another file of the set, e.g. LOG_LEVELS).
  for (const { sf } of sources) {
    for (const st of sf.statements) {
      if (!ts.isVariableStatement(st)) continue;
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer) {
          const v = literalValue(d.initializer, consts);
          if (v !== undefined) consts.set(d.name.text, v);
        }
      }
    }
  }
  const classes = new Map<string, ClassInfo>();
  for (const { file, sf } of sources) {
    for (const st of sf.statements) {
      if (ts.isInterfaceDeclaration(st)) {
        const info: ClassInfo = { name: st.name.text, file, doc: jsDocOf(st), properties: [] };
        for (const m of st.members) {
          if (!ts.isPropertySignature(m) || !ts.isIdentifier(m.name)) continue;
          info.properties.push({
            name: m.name.text,
            doc: jsDocOf(m),
            optional: !!m.questionToken,
            type: m.type ? m.type.getText(sf) : '',
            decorators: [],
          });
        }
        classes.set(info.name, info);
        continue;
      }
      if (!ts.isClassDeclaration(st) || !st.name) continue;
      const ext = st.heritageClauses
        ?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)
        ?.types[0]?.expression.getText(sf);
      const info: ClassInfo = { name: st.name.text, file, doc: jsDocOf(st), extends: ext, properties: [] };
      for (const m of st.members) {
        if (!ts.isPropertyDeclaration(m) || !ts.isIdentifier(m.name)) continue;
        const decorators = (ts.getDecorators(m) ?? []).flatMap((d): DecoratorInfo[] => {
          const e = d.expression;
          if (ts.isCallExpression(e)) {
            return [
              {
                name: e.expression.getText(sf),
                args: e.arguments.map((a) => a.getText(sf)),
                values: e.arguments.map((a) => literalValue(a, consts)),
              },
            ];
          }
          return [{ name: e.getText(sf), args: [], values: [] }];
        });
        info.properties.push({
          name: m.name.text,
          doc: jsDocOf(m),
          optional: !!m.questionToken,
          type: m.type ? m.type.getText(sf) : '',
          initializer: m.initializer?.getText(sf),
          value: m.initializer ? literalValue(m.initializer, consts) : undefined,
          decorators,
        });
      }
      classes.set(info.name, info);
    }
  }
  return classes;
}

/** `Class.property` → JSDoc, for every documented property of the classes in `files`. */
export function propertyDocs(files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of readClasses(files).values()) {
    if (c.doc) out.set(c.name, c.doc);
    for (const p of c.properties) if (p.doc) out.set(`${c.name}.${p.name}`, p.doc);
  }
  return out;
}
