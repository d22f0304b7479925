// The README's tour as the commands a reader types: every ```sh block of the "A five-minute
// tour" section, split into commands (a here-document or a `\` continuation stays with its
// command; blank and comment-only lines are dropped). tools/docs/test/tour.e2e-spec.ts replays
// them, in order, in one shell.

export interface TourCommand {
  /** 1-based README line where the command starts. */
  line: number;
  /** The command as written, comment included (bash ignores it). */
  text: string;
  /** The trailing `# …` comment of its first line, if any: what the README says it prints. */
  comment: string;
}

/** The body of the `## <title>` section (up to the next `## ` heading). */
export function section(markdown: string, title: string): { start: number; lines: string[] } {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${title}`);
  if (start < 0) throw new Error(`no "## ${title}" section`);
  let end = start + 1;
  while (end < lines.length && !/^## /.test(lines[end])) end++;
  return { start: start + 1, lines: lines.slice(start + 1, end) };
}

/** A trailing comment that is not inside quotes (good enough for the tour's commands). */
export function trailingComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(i + 1).trim();
  }
  return '';
}

export function tourCommands(markdown: string, title = 'A five-minute tour'): TourCommand[] {
  const { start, lines } = section(markdown, title);
  const out: TourCommand[] = [];
  let i = 0;
  while (i < lines.length) {
    if (!/^\s*```(sh|bash|shell)\s*$/.test(lines[i])) {
      i++;
      continue;
    }
    i++;
    while (i < lines.length && !/^\s*```\s*$/.test(lines[i])) {
      const first = lines[i];
      const lineNo = start + i + 1;
      i++;
      if (first.trim() === '' || first.trim().startsWith('#')) continue;
      const text = [first];
      const heredoc = /<<-?\s*(['"]?)([A-Za-z_]+)\1/.exec(first);
      if (heredoc) {
        while (i < lines.length && lines[i].trim() !== heredoc[2]) text.push(lines[i++]);
        if (i === lines.length) throw new Error(`README line ${lineNo}: unterminated here-document`);
        text.push(lines[i++]);
      } else {
        while (/\\\s*$/.test(text[text.length - 1]) && i < lines.length) text.push(lines[i++]);
      }
      out.push({ line: lineNo, text: text.join('\n'), comment: trailingComment(first) });
    }
    i++;
  }
  return out;
}
