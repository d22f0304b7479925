// Note [Link check]
// Every Markdown file of the repository (tracked, or new and not ignored) is read once; each
// relative link must name a file or directory inside the repository, and each `#anchor` must name
// a heading (GitHub's slugs) or an explicit `<a id|name="…">` of the target file. External links
// (any `scheme:`) are not fetched: the check is offline, fast and deterministic. Links inside code
// spans and fenced code blocks are text, not links.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface LinkProblem {
  file: string;
  line: number;
  target: string;
  message: string;
}

export interface MarkdownLink {
  line: number;
  target: string;
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens. */
export function slugify(heading: string): string {
  return heading
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The visible text of a heading's Markdown (links, code spans, emphasis, inline HTML removed). */
function headingText(md: string): string {
  return md
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(^|[^\p{L}\p{N}])_(\S(?:.*?\S)?)_(?=[^\p{L}\p{N}]|$)/gu, '$1$2')
    .replace(/(\*\*|\*|~~)/g, '')
    .trim();
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(raw);
    if (m) {
      if (fence === null) fence = m[1][0].repeat(m[1].length);
      else if (m[1].startsWith(fence)) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text: raw });
  });
  return out;
}

/** Every anchor a file defines: heading slugs (duplicates numbered as GitHub does) and HTML ids. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: l } of proseLines(text)) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (h) {
      const base = slugify(headingText(h[1]));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of l.matchAll(/<a\s+[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
  }
  return anchors;
}

/** Inline links, images and reference definitions outside code. */
export function linksOf(text: string): MarkdownLink[] {
  const out: MarkdownLink[] = [];
  for (const { line, text: l } of proseLines(text)) {
    const prose = l.replace(/`[^`]*`/g, (s) => ' '.repeat(s.length));
    for (const m of prose.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ line, target: m[1] });
    }
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/.exec(prose);
    if (def) out.push({ line, target: def[1] });
  }
  return out;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Checks the links of `files` (repository-relative paths → contents). `kindOf` says whether a
 * repository-relative path is a file, a directory or missing.
 */
export function checkLinks(
  files: Map<string, string>,
  kindOf: (rel: string) => 'file' | 'dir' | null,
  read: (rel: string) => string | null = (rel) => files.get(rel) ?? null,
): LinkProblem[] {
  const problems: LinkProblem[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (rel: string): Set<string> | null => {
    if (!anchorCache.has(rel)) {
      const t = read(rel);
      if (t === null) return null;
      anchorCache.set(rel, anchorsOf(t));
    }
    return anchorCache.get(rel)!;
  };
  for (const [file, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    for (const { line, target } of linksOf(text)) {
      if (target === '' || EXTERNAL.test(target) || target.startsWith('//')) continue;
      const hashAt = target.indexOf('#');
      const rawPath = hashAt >= 0 ? target.slice(0, hashAt) : target;
      const anchor = hashAt >= 0 ? decodeURIComponent(target.slice(hashAt + 1)) : '';
      const pathPart = decodeURIComponent(rawPath.split('?')[0]);
      const report = (message: string) => problems.push({ file, line, target, message });
      let rel = file;
      if (pathPart !== '') {
        rel = pathPart.startsWith('/')
          ? path.posix.normalize(pathPart.slice(1))
          : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
        if (rel === '..' || rel.startsWith('../')) {
          report('leaves the repository (a clone elsewhere has no such file)');
          continue;
        }
        rel = rel.replace(/\/$/, '') || '.';
        const kind = kindOf(rel);
        if (kind === null) {
          report(`no such file or directory: ${rel}`);
          continue;
        }
        if (kind === 'dir') {
          if (anchor) report(`an anchor on a directory: ${rel}`);
          continue;
        }
      }
      if (anchor && /\.md$/i.test(rel)) {
        const a = anchors(rel);
        if (a && !a.has(anchor)) report(`no heading or anchor #${anchor} in ${rel}`);
      }
    }
  }
  return problems;
}

/** The repository's Markdown files: tracked ones plus new ones that are not ignored. */
export function markdownFiles(root: string): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return [...new Set(out.split('\0').filter((f) => f && existsSync(path.join(root, f))))].sort();
}

/** Runs the check over the repository at `root`; returns the problems found. */
export function checkRepository(root: string): { files: number; links: number; problems: LinkProblem[] } {
  const files = new Map<string, string>();
  for (const f of markdownFiles(root)) files.set(f, readFileSync(path.join(root, f), 'utf8'));
  const kindOf = (rel: string): 'file' | 'dir' | null => {
    const p = path.join(root, rel);
    if (!existsSync(p)) return null;
    return statSync(p).isDirectory() ? 'dir' : 'file';
  };
  const read = (rel: string): string | null => {
    if (files.has(rel)) return files.get(rel)!;
    const p = path.join(root, rel);
    return existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : null;
  };
  let links = 0;
  for (const t of files.values()) links += linksOf(t).length;
  return { files: files.size, links, problems: checkLinks(files, kindOf, read) };
}
