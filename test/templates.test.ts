// Campaign templates (spec §5): rendering, validation messages and code safety. No database.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { MAX_TEMPLATE_TAGS } from '../src/campaigns/template-grammar.js';
import {
  compileTemplate,
  templateCode,
  validateTemplate,
  type TemplateChannel,
  type TemplateData,
  type TemplatePerson,
} from '../src/campaigns/templates.js';

const PATH = 'input.messageTemplate.text';

function person(overrides: Partial<TemplatePerson> = {}): TemplatePerson {
  return { id: 'u1', name: 'Ada', role: 'user', language: 'en', custom: {}, ...overrides };
}

const sender = person({ id: 'shop', name: 'The Shop', role: 'admin', language: 'de', custom: { team: { name: 'Sales' } } });
const channel: TemplateChannel = { id: 'dm-1', type: 'messaging', cid: 'messaging:dm-1', custom: { region: 'EU', tier: { level: 2 } } };

function render(source: string, data: TemplateData): string {
  return compileTemplate(source, PATH).render(data);
}

/** Matches a thrown ValidationError at `path` whose message contains `text`. */
function validationError(text: string, path = PATH): ReturnType<typeof expect.objectContaining> {
  return expect.objectContaining({ name: ValidationError.name, code: 'VALIDATION', path: [path], message: expect.stringContaining(text) });
}

describe('rendering', () => {
  it('reads the columns of user, receiver and sender', () => {
    const user = person({ id: 'u7', name: 'Grace', role: 'guest', language: 'fr' });
    expect(render('{{user.id}} {{user.name}} {{user.role}} {{user.language}}', { user, sender })).toBe('u7 Grace guest fr');
    expect(render('{{receiver.id}} {{receiver.name}} {{receiver.role}} {{receiver.language}}', { user, sender })).toBe('u7 Grace guest fr');
    expect(render('{{sender.id}} {{sender.name}} {{sender.role}} {{sender.language}}', { user, sender })).toBe('shop The Shop admin de');
  });

  it('reads nested custom data in dot notation, with custom. as an explicit alias', () => {
    const user = person({ custom: { address: { city: 'Oslo', geo: { lat: 59.9 } }, plan: 'gold' } });
    expect(render('{{user.address.city}} {{ user.address.geo.lat }} {{user.plan}}', { user })).toBe('Oslo 59.9 gold');
    expect(render('{{user.custom.address.city}} {{receiver.custom.plan}}', { user })).toBe('Oslo gold');
    expect(render('{{sender.team.name}}/{{sender.custom.team.name}}', { sender })).toBe('Sales/Sales');
  });

  it('prefers a column over a custom key of the same name; custom. reaches the custom key', () => {
    const user = person({ name: 'Column', custom: { name: 'Custom', id: 'custom-id' } });
    expect(render('{{user.name}} {{user.id}} | {{user.custom.name}} {{user.custom.id}}', { user })).toBe('Column u1 | Custom custom-id');
  });

  it('reads channel id, type, cid and custom data', () => {
    expect(render('{{channel.id}} {{channel.type}} {{channel.cid}} {{channel.region}} {{channel.tier.level}} {{channel.custom.region}}', { channel }))
      .toBe('dm-1 messaging messaging:dm-1 EU 2 EU');
  });

  it('renders missing values as empty text', () => {
    const user = person({ name: null, language: null, custom: { address: null } });
    const source = '[{{user.name}}][{{user.language}}][{{user.nope}}][{{user.address.city}}][{{user.custom.a.b.c}}][{{sender.name}}][{{channel.cid}}]';
    expect(render(source, { user })).toBe('[][][][][][][]');
    expect(render(source, {})).toBe('[][][][][][][]');
  });

  it('renders user.* as empty text in group channels, where delivery passes no user', () => {
    const template = compileTemplate('Hi {{ user.name }}{{receiver.address.city}}, from {{ sender.name }} in {{ channel.id }}', PATH);
    expect(template.render({ user: null, sender, channel })).toBe('Hi , from The Shop in dm-1');
    expect(template.render({ sender, channel })).toBe('Hi , from The Shop in dm-1');
  });

  it('accepts whitespace, tabs and newlines inside the braces', () => {
    const user = person();
    expect(render('{{user.name}}|{{ user.name }}|{{   user.name\t}}|{{\n  user.name\n}}', { user })).toBe('Ada|Ada|Ada|Ada');
  });

  it('renders objects and arrays as JSON, numbers and booleans as text, 0 and false included', () => {
    const user = person({ custom: { address: { city: 'Oslo', zip: 150 }, tags: ['a', 'b'], count: 0, vip: false, score: 9.5 } });
    expect(render('{{user.address}} {{user.tags}} {{user.count}} {{user.vip}} {{user.score}}', { user }))
      .toBe('{"city":"Oslo","zip":150} ["a","b"] 0 false 9.5');
    expect(render('{{user.custom}}', { user: person({ custom: { a: [1, { b: null }] } }) })).toBe('{"a":[1,{"b":null}]}');
  });

  it('does not descend into strings or arrays', () => {
    const user = person({ custom: { tags: ['a', 'b'], nick: 'ada' } });
    expect(render('[{{user.name.length}}][{{user.tags.length}}][{{user.nick.length}}]', { user })).toBe('[][][]');
  });

  it('reads own properties only, never the prototype chain', () => {
    const polluted = JSON.parse('{"__proto__": {"isAdmin": true}, "plain": 1}') as unknown;
    const inherited = Object.create({ secret: 'from-prototype' }) as object;
    expect(render('[{{user.isAdmin}}][{{user.plain}}][{{user.toString}}][{{user.hasOwnProperty}}][{{user.valueOf}}]', { user: person({ custom: polluted }) }))
      .toBe('[][1][][][]');
    expect(render('[{{user.secret}}]', { user: person({ custom: inherited }) })).toBe('[]');
    expect(render('{{user.custom}}', { user: person({ custom: polluted }) })).toBe('{"__proto__":{"isAdmin":true},"plain":1}');
    expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });

  it('renders a custom constructor key as data when asked for the whole object, and never as a tag', () => {
    const user = person({ custom: { constructor: 'x', other: 'y' } });
    expect(render('{{user.custom}}', { user })).toBe('{"constructor":"x","other":"y"}');
    expect(() => validateTemplate('{{ user.constructor }}', PATH)).toThrow(validationError('"constructor" may not appear'));
  });

  it('keeps literal text exactly, unescaped, and never evaluates it', () => {
    const text = `Say "hi" it's \\n \\' \r\n\ttab \`\${1+1}\` <%= 1+1 %> <% process.exit(1) %> }} } { <b>&amp;</b> \u2028\u2029 ✓ `;
    expect(render(`${text}{{user.name}}${text}`, { user: person() })).toBe(`${text}Ada${text}`);
  });

  it('renders values verbatim: no HTML escaping, no second template pass', () => {
    const user = person({ name: '<script>{{ sender.id }}</script> & "q"' });
    expect(render('{{user.name}}', { user, sender })).toBe('<script>{{ sender.id }}</script> & "q"');
  });

  it('compiles once and renders per recipient', () => {
    const template = compileTemplate('Hi {{user.name}} ({{user.address.city}})', PATH);
    expect(template.source).toBe('Hi {{user.name}} ({{user.address.city}})');
    const names = ['A', 'B', 'C'];
    expect(names.map((name, i) => template.render({ user: person({ name, custom: { address: { city: `c${i}` } } }) })))
      .toEqual(['Hi A (c0)', 'Hi B (c1)', 'Hi C (c2)']);
    expect(render('plain text, no tags', {})).toBe('plain text, no tags');
    expect(render('', {})).toBe('');
  });

  it(`renders ${MAX_TEMPLATE_TAGS} tags and rejects one more, naming it`, () => {
    const tags = Array.from({ length: MAX_TEMPLATE_TAGS }, (_, i) => `{{user.k${i}}}`).join(',');
    const custom = Object.fromEntries(Array.from({ length: MAX_TEMPLATE_TAGS }, (_, i) => [`k${i}`, i]));
    expect(render(tags, { user: person({ custom }) })).toBe(Array.from({ length: MAX_TEMPLATE_TAGS }, (_, i) => i).join(','));
    expect(() => validateTemplate(`${tags},{{ user.extra }}`, PATH)).toThrow(
      validationError(`{{ user.extra }} at line 1, column ${tags.length + 2} is one tag too many: a template may hold at most ${MAX_TEMPLATE_TAGS} tags`),
    );
  });
});

describe('validation', () => {
  /** By reason; a bare string is a template that is one bad tag, at line 1, column 1. */
  const groups: [RegExp, (string | [source: string, tagAndPosition: string])[]][] = [
    [/only a dotted path/, [
      '{{ process.exit() }}', ['Hi {{ a + b }}', '{{ a + b }} at line 1, column 4'], "{{ user.name || 'x' }}",
      '{{ user.name; process.exit() }}', "{{ user['name'] }}", '{{ `${process.env.HOME}` }}',
      ['{{ user.name /* }} */ }}', '{{ user.name /* }} at line 1, column 1'], '{{ %> <% process.exit() %> }}',
      '{{ user. name }}', '{{ user.1st }}', '{{ user.zip-code }}', '{{ user.naïve }}',
      ['{{{ user.name }}}', '{{{ user.name }} at line 1, column 1'],
      ['line one\nline two {{ user.name }}\n  {{ oops() }}', '{{ oops() }} at line 3, column 3'],
    ]],
    [/"it" is not a template namespace; use user, receiver, sender or channel/, ['{{ it.x }}']],
    [/"foo" is not a template namespace/, ['{{ foo.bar }}']],
    [/"global" is not a template namespace/, ['{{ global.process }}']],
    [/"this" is not a template namespace/, ['{{ this.config }}']],
    [/"constructor" may not appear in a tag/, ['{{ it.constructor }}']],
    [/"__proto__" may not appear in a tag/, ['{{ user.__proto__.x }}']],
    [/"prototype" may not appear in a tag/, ['{{ channel.prototype }}']],
    [/needs a field after "user", such as \{\{ user.name \}\}/, ['{{user}}']],
    [/needs a field after "receiver"/, ['{{ receiver }}']],
    [/tag prefixes \(=, ~, -, _\) are not supported/, ['{{= user.name}}', '{{~ user.name}}', '{{- user.name}}', '{{_ user.name}}']],
    [/is empty/, ['{{}}', ['a {{   }}', '{{   }} at line 1, column 3']]],
    [/is not closed with \}\}/, [
      ['Hi {{user.name', '{{user.name at line 1, column 4'],
      ['Hi {{user.name}} {{ sender.name }', '{{ sender.name } at line 1, column 18'],
    ]],
  ];
  const rejected = groups.flatMap(([reason, cases]) => cases.map((c): [string, string, RegExp] =>
    typeof c === 'string' ? [c, `${c} at line 1, column 1`, reason] : [c[0], c[1], reason]));

  it.each(rejected)('rejects %j in validateTemplate and compileTemplate, naming the tag and its position', (source, tagAndPosition, reason) => {
    for (const check of [validateTemplate, compileTemplate]) {
      expect(() => check(source, PATH)).toThrow(validationError(`${PATH}: ${tagAndPosition} `));
      expect(() => check(source, PATH)).toThrow(reason);
    }
    const channelId = 'input.channelTemplate.id';
    expect(() => compileTemplate(source, channelId)).toThrow(validationError(`${channelId}: ${tagAndPosition} `, channelId));
  });

  it('accepts every namespace, names with underscores and digits, and stray closing braces', () => {
    for (const source of ['{{user.a}}{{receiver.b}}{{sender.c}}{{channel.d}}', '{{ user._private_1.x2 }}', '{{user.first_}}', 'a }} b } c {', 'no tags']) {
      expect(() => validateTemplate(source, PATH)).not.toThrow();
    }
    expect(render('{{user.first_}}|}}', { user: person({ custom: { first_: 'F' } }) })).toBe('F|}}');
  });

  it('cuts a long tag in the message', () => {
    const long = `{{ user.name + ${'x'.repeat(200)} }}`;
    expect(() => validateTemplate(long, PATH)).toThrow(validationError(`${long.slice(0, 60)}… at line 1, column 1`));
    expect(() => validateTemplate(long, PATH)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('x'.repeat(100)) }));
  });
});

describe('code safety', () => {
  const globals = globalThis as { templatePwned?: unknown };

  it('the Eta parser is the template grammar: hostile templates cannot reach code generation', () => {
    for (const source of ['{{ process.exit() }}', '{{ it.constructor }}', '{{ global.process }}', '{{= process.exit() }}', '{{~ it }}', '{{ %> <% process.exit() %> }}']) {
      expect(() => templateCode(source, PATH)).toThrow(validationError(`${PATH}: {{`));
    }
  });

  it('generated code holds only string appends and path lookups with the path as a string literal', () => {
    const source = `x'; globalThis.templatePwned = 1; '\\' {{ user.name }} \n\`\${globalThis.templatePwned = 2}\` {{channel.custom.a}}`;
    const code = templateCode(source, PATH);
    const appends = code.split('\n').filter((line) => line.startsWith('__eta.res+='));
    expect(appends).toEqual([
      expect.stringMatching(/^__eta\.res\+='(?:[^'\\]|\\.)*';$/),
      '__eta.res+=this.config.customTags["@path"]("user.name",it);',
      expect.stringMatching(/^__eta\.res\+='(?:[^'\\]|\\.)*';$/),
      '__eta.res+=this.config.customTags["@path"]("channel.custom.a",it);',
    ]);
    expect(render(source, { user: person() })).toBe(source.replace('{{ user.name }}', 'Ada').replace('{{channel.custom.a}}', ''));
    expect(globals.templatePwned).toBeUndefined();
  });

  it('Eta syntax in literal text stays text', () => {
    const source = '<%= globalThis.templatePwned = 3 %> <% globalThis.templatePwned = 4 %> <%~ it %>';
    expect(render(source, {})).toBe(source);
    expect(globals.templatePwned).toBeUndefined();
  });

  it('a compiled template exposes only its source, its tag paths and render', () => {
    const compiled = compileTemplate('Hi {{ user.name }} from {{receiver.address.city}}', PATH);
    expect(Object.keys(compiled).sort()).toEqual(['paths', 'render', 'source']);
    expect(compiled.paths).toEqual(['user.name', 'receiver.address.city']);
  });
});
