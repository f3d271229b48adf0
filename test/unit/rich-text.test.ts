import { describe, expect, it } from 'vitest';
import {
  detectStyle,
  findRichTextProblems,
  htmlToMarkdown,
  markdownToHtml,
  mergeRichText,
  normalizeHtml,
} from '../../src/content/rich-text.js';

const BASE = { publicBaseUrl: 'https://site.test/media/' };

describe('markdownToHtml (issue 11: richtext is HTML in the CMS)', () => {
  it('turns a bold word into <strong> and GFM into HTML', () => {
    const html = markdownToHtml('With **butter-sync** both ~~ways~~.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
    expect(html).toContain('<p>With <strong>butter-sync</strong> both <del>ways</del>.</p>');
    expect(html).toContain('<td>1</td>');
  });

  it('passes raw HTML through, stripping only scripts, event handlers and javascript: links', () => {
    const html = markdownToHtml(
      '<div class="note" style="color:red" onclick="steal()">kept <b>bold</b></div>\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <!-- a comment -->\n',
    );
    expect(html).toContain('<div class="note" style="color:red">kept <b>bold</b></div>');
    expect(html).not.toContain('script');
    expect(html).not.toContain('onclick');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('<!-- a comment -->');
  });

  it('resolves path-relative links and images against publicBaseUrl, leaving root-relative and absolute ones', () => {
    const html = markdownToHtml(
      '![a](./img.png) ![b](pics/b.png) [c](/docs/) [d](https://x.test/) <img src="../up.png">\n',
      BASE,
    );
    expect(html).toContain('src="https://site.test/media/img.png"');
    expect(html).toContain('src="https://site.test/media/pics/b.png"');
    expect(html).toContain('href="/docs/"');
    expect(html).toContain('href="https://x.test/"');
    expect(html).toContain('src="https://site.test/up.png"');
  });

  it('converts CRLF Markdown to the same HTML as LF', () => {
    expect(markdownToHtml('a\r\n\r\n* b\r\n* c\r\n')).toBe(markdownToHtml('a\n\n* b\n* c\n'));
  });
});

describe('normalizeHtml', () => {
  it('compares equal across serialisers (layout whitespace, attribute quoting, entities)', () => {
    expect(normalizeHtml("<p>a &amp; b</p>\n<ul>\n  <li>x</li>\n</ul>\n<img src='y.png'>")).toBe(
      normalizeHtml('<p>a &#38; b</p><ul><li>x</li></ul><img src="y.png">'),
    );
  });
});

describe('htmlToMarkdown', () => {
  it('prints an editor’s HTML as Markdown in the given style', () => {
    const md = htmlToMarkdown('<p>An <strong>edited</strong> <em>word</em></p><ul><li>one</li></ul>');
    expect(md).toBe('An **edited** _word_\n\n- one\n');
  });

  it('keeps elements Markdown has no syntax for as raw HTML', () => {
    expect(htmlToMarkdown('<div class="x">boxed</div>')).toBe('<div class="x">boxed</div>\n');
  });
});

describe('mergeRichText (minimal pulls)', () => {
  const doc = [
    'Intro with *emphasis*  and a [ref][r].',
    '',
    '+ one',
    '+ two',
    '',
    '~~~js',
    'const a = 1;',
    '~~~',
    '',
    'Last   paragraph.',
    '',
    '[r]: https://example.com',
    '',
  ].join('\n');

  it('returns the Markdown byte for byte when the HTML is what it converts to', () => {
    expect(mergeRichText(doc, markdownToHtml(doc))).toBe(doc);
    const crlf = doc.replace(/\n/g, '\r\n');
    expect(mergeRichText(crlf, markdownToHtml(crlf))).toBe(crlf);
  });

  it('rewrites only the block an editor changed, in the file’s own style', () => {
    const html = markdownToHtml(doc).replace('<li>two</li>', '<li>two</li>\n<li>three <em>new</em></li>');
    const merged = mergeRichText(doc, html);
    expect(merged).toBe(doc.replace('+ two\n', '+ two\n+ three *new*\n'));
  });

  it('keeps CRLF and untouched blocks when a paragraph changes', () => {
    const crlf = doc.replace(/\n/g, '\r\n');
    const html = markdownToHtml(doc).replace('Last   paragraph.', 'Last <strong>edited</strong> paragraph.');
    const merged = mergeRichText(crlf, html);
    expect(merged).toBe(crlf.replace('Last   paragraph.', 'Last **edited** paragraph.'));
  });

  it('adds, removes and reorders blocks without touching their neighbours', () => {
    const md = 'First.\n\nSecond.\n\nThird.\n';
    expect(mergeRichText(md, '<p>First.</p><p>Third.</p>')).toBe('First.\n\nThird.\n');
    expect(mergeRichText(md, '<p>Zero.</p><p>First.</p><p>Second.</p><p>Third.</p>')).toBe(
      'Zero.\n\nFirst.\n\nSecond.\n\nThird.\n',
    );
    expect(mergeRichText(md, '')).toBe('\n'); // the file keeps its final newline
  });

  it('prints the file’s own relative links in a pulled paragraph, not the absolute URLs they were sent as', () => {
    // Found in a trial on the Vite blog: `./announcing-vite4.md` came back as `https://vite.dev/blog/…`.
    const options = { publicBaseUrl: 'https://vite.dev/blog/' };
    const md = 'Vite 4 [was released](./announcing-vite4.md) a year ago.\n\n![Cover](../images/cover.webp)\n';
    const html = markdownToHtml(md, options)
      .replace('a year ago', 'a <strong>full</strong> year ago')
      .replace('alt="Cover"', 'alt="New cover"');
    expect(html).toContain('href="https://vite.dev/blog/announcing-vite4.md"');
    const merged = mergeRichText(md, html, options);
    expect(merged).toBe(
      'Vite 4 [was released](./announcing-vite4.md) a **full** year ago.\n\n![New cover](../images/cover.webp)\n',
    );
    // A link to the site that the file never had stays absolute.
    const added = mergeRichText(md, `${html}<p><a href="https://vite.dev/blog/other.md">x</a></p>`, options);
    expect(added).toContain('[x](https://vite.dev/blog/other.md)');
  });

  it('writes an empty file body from HTML', () => {
    expect(mergeRichText('', '<p>New <strong>text</strong></p>')).toBe('New **text**\n');
  });
});

describe('detectStyle', () => {
  it('reads bullets, emphasis, strong, fences and rules from the file', () => {
    const style = detectStyle('* a\n\n__b__ and _c_\n\n~~~\nx\n~~~\n\n***\n');
    expect(style).toMatchObject({ bullet: '*', strong: '_', emphasis: '_', fence: '~', rule: '*' });
  });

  it('keeps ** for strong in a file that shows only _emphasis_ (the common pairing), and follows a file’s **', () => {
    expect(detectStyle('_November 16, 2023_\n\nText.\n')).toMatchObject({ emphasis: '_', strong: '*' });
    expect(detectStyle('Some **bold** text.\n')).toMatchObject({ emphasis: '*', strong: '*' });
  });
});

describe('findRichTextProblems (refused at plan time)', () => {
  it('names MDX imports and JSX components with their line and "text" as the alternative', () => {
    const problems = findRichTextProblems(
      'import Card from \'./Card.astro\';\n\n# Title\n\n<Card title="x">\nbody\n</Card>\n',
    );
    expect(problems.map((p) => p.line)).toEqual([1, 5]);
    expect(problems[0]!.message).toContain('import Card');
    expect(problems[0]!.hint).toContain('"text"');
    expect(problems[1]!.message).toContain('<Card');
  });

  it('reports relative links when no publicBaseUrl is set, and none when it is', () => {
    const md = 'Text\n\n![a](./img.png)\n';
    expect(findRichTextProblems(md)).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining('"./img.png"') }),
    ]);
    expect(findRichTextProblems(md, BASE)).toEqual([]);
  });

  it('finds nothing in plain Markdown with HTML and code', () => {
    expect(findRichTextProblems('<div>x</div>\n\n```jsx\n<Card />\nimport x\n```\n')).toEqual([]);
  });
});
