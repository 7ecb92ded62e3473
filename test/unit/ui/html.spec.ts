import { escapeHtml, html, trustedHtml } from '../../../lib/ui/html.js';

describe('html tag', () => {
  it('escapes interpolated text, attributes included', () => {
    const body = '<script>alert("x")</script>';
    const quote = `" onmouseover='x'`;
    expect(html`<pre title="${quote}">${body}</pre>`.toString()).toBe(
      '<pre title="&quot; onmouseover=&#39;x&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</pre>',
    );
  });

  it('keeps nested Html and trusted markup as is, joins arrays and drops null, undefined and false', () => {
    const rows = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    const hr = trustedHtml('<hr>');
    const list = html`<ul>${rows}${null}${undefined}${false}${hr}</ul>`;
    expect(list.toString()).toBe('<ul><li>a&lt;b</li><li>c</li><hr></ul>');
  });

  it('escapes the five characters that matter', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
